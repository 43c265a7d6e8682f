@testable import CreditHub
import CreditCore
import CreditData
import CreditTesting
import Testing

/// The hub files every merged record under its subject and its Article 33 persons: each kind of
/// identifier must come out as the node files it (``Subject/key``, the one subject-key function).
@Suite struct SubjectExtractTests {
    @Test func eachKindOfSubjectAndPersonGivesItsKey() throws {
        let payload = #"""
            {"fields":{"CF_NR":"罚款","responsiblePersons":[{"name":"张三","residentId":"36010219800101001X","role":"legal-representative"},
            {"name":"李四","role":"actual-controller"},{"document":{"type":"passport","number":"E12345678"},"name":"Tom","role":"directly-responsible-person"}]},
            "item":"CF","recordId":"r1","subject":{"kind":"legal-person","name":"某公司","uscc":"91360100MA35X0000X"}}
            """#
        let extract = try #require(SubjectExtract.from(Array(payload.utf8)))
        #expect(extract.subject == "uscc:91360100MA35X0000X")
        #expect(extract.persons == [
            .init(key: "resident-id:36010219800101001X", role: "legal-representative"),
            .init(key: "unidentified:李四", role: "actual-controller"),
            .init(key: "document:passport:E12345678", role: "directly-responsible-person"),
        ])
        let person = #"{"item":"CF","recordId":"r2","subject":{"kind":"natural-person","name":"王五","residentId":"360102198001010010"},"fields":{}}"#
        #expect(SubjectExtract.from(Array(person.utf8)) == SubjectExtract(subject: "resident-id:360102198001010010", persons: []))
        let document = #"""
            {"item":"CF","recordId":"r3","subject":{"kind":"natural-person","document":{"number":"X1","type":"hk-macau-permit"},"name":"陈"},"fields":{}}
            """#
        #expect(SubjectExtract.from(Array(document.utf8))?.subject == "document:hk-macau-permit:X1")
    }

    @Test func aPayloadThatIsNotARecordHasNone() {
        #expect(SubjectExtract.from([]) == nil)
        #expect(SubjectExtract.from(Array(#"{"subject":"uscc"}"#.utf8)) == nil)
        #expect(SubjectExtract.from(Array(#"[1,2]"#.utf8)) == nil)
        #expect(SubjectExtract.from(Array(#"{"subject":{"uscc":"1"},"x":tru}"#.utf8)) == nil)
    }

    /// A daemon's hub takes the keys from the record its validation accepted instead of reading
    /// the payload again: they must be the keys the payload gives, as every node reads them.
    @Test func theValidatedRecordGivesTheKeysItsPayloadGives() throws {
        let validator = Fixtures.reference.validator(today: CivilDate(year: 2026, month: 11, day: 20)!)
        // The serious-list entry of Protocol/vectors/records.json, with a second person.
        let record = NodeFixture.seriousListEntry(persons: [
            NodeFixture.listedPerson,
            .object(["role": .string("directly-responsible-person"), "name": .string("Tom"),
                     "document": .object(["type": .string("passport"), "number": .string("E12345678")])]),
        ])
        let validation = validator.validate(NodeFixture.json(record))
        let accepted = try #require(validation.accepted, "\(validation.issues)")
        let fromValidation = SubjectExtract(accepted.record.subject, persons: accepted.responsiblePersons)
        #expect(fromValidation == SubjectExtract.from(accepted.canonicalJSON))
        #expect(fromValidation.subject == "uscc:91110000600037341L")
        #expect(fromValidation.persons == [.init(key: "resident-id:360102198001010056", role: "legal-representative"),
                                           .init(key: "document:passport:E12345678", role: "directly-responsible-person")])
    }
}
