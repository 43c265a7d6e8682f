@testable import CreditHub
import Testing

/// The hub files every merged record under its subject and its Article 33 persons from a
/// projection of the payload: each kind of identifier must come out as the node files it.
@Suite struct SubjectExtractTests {
    @Test func eachKindOfSubjectAndPersonGivesItsKey() throws {
        let payload = #"""
            {"fields":{"CF_NR":"罚款","responsiblePersons":[{"name":"张三","residentId":"36010219800101001X","role":"legal-representative"},
            {"name":"李四","role":"manager"},{"document":{"type":"passport","number":"E12345678"},"name":"Tom","role":"manager"}]},
            "item":"CF","recordId":"r1","subject":{"kind":"legal-person","name":"某公司","uscc":"91360100MA35X0000X"}}
            """#
        let extract = try #require(SubjectExtract.from(Array(payload.utf8)))
        #expect(extract.subject == "uscc:91360100MA35X0000X")
        #expect(extract.persons == [
            .init(key: "resident-id:36010219800101001X", role: "legal-representative"),
            .init(key: "", role: "manager"),
            .init(key: "document:passport:E12345678", role: "manager"),
        ])
        let person = #"{"subject":{"kind":"natural-person","name":"王五","residentId":"360102198001010010"},"fields":{}}"#
        #expect(SubjectExtract.from(Array(person.utf8)) == SubjectExtract(subject: "resident-id:360102198001010010", persons: []))
        let document = #"{"subject":{"document":{"number":"X1","type":"hk-macao-permit"},"name":"陈"}}"#
        #expect(SubjectExtract.from(Array(document.utf8))?.subject == "document:hk-macao-permit:X1")
    }

    @Test func aPayloadWithoutASubjectObjectHasNone() {
        #expect(SubjectExtract.from([]) == nil)
        #expect(SubjectExtract.from(Array(#"{"subject":"uscc"}"#.utf8)) == nil)
        #expect(SubjectExtract.from(Array(#"[1,2]"#.utf8)) == nil)
        #expect(SubjectExtract.from(Array(#"{"subject":{"uscc":"1"},"x":tru}"#.utf8)) == nil)
    }
}
