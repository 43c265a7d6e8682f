import CreditCore
import CreditTesting
import Testing

/// Subject keys as callers type them, read into the form records are filed under (identifiers.md).
@Suite struct SubjectKeyTests {
    let context = Fixtures.reference.identifierContext(today: Fixtures.today)

    @Test func aKeyIsReadIntoItsNormalizedForm() throws {
        #expect(try SubjectKey.normalize("uscc:91110000600037341l", context: context) == "uscc:91110000600037341L")
        #expect(try SubjectKey.normalize("uscc: 91110000600037341L ", context: context) == "uscc:91110000600037341L")
        #expect(try SubjectKey.normalize("resident-id:11010519491231002x", context: context) == "resident-id:11010519491231002X")
        #expect(try SubjectKey.normalize("document:passport:e12345678", context: context) == "document:passport:E12345678")
        #expect(try SubjectKey.normalize("unidentified:王伟", context: context) == "unidentified:王伟")
    }

    @Test func anythingElseSaysWhatIsWrong() {
        for bad in ["uscc:91110000600037341N", "resident-id:12", "document:visa:E1234", "foo:bar", "91110000600037341L", ""] {
            #expect(throws: SubjectKey.Invalid.self, "\(bad)") { try SubjectKey.normalize(bad, context: context) }
        }
    }
}
