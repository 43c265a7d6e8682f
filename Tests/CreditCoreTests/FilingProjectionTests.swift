import CreditCore
import CreditData
import CreditTesting
import Testing

/// A node files a fanned-out record from a projection of its payload
/// (``Catalog/filingProjection``): the record it builds must classify and file exactly as the
/// whole record does, under every item and every rule that reads a field.
@Suite struct FilingProjectionTests {
    static let catalog = Fixtures.reference.catalog

    /// A payload of `item` decided on 2026-03-02, with `extra` fields and a subject.
    static func payload(_ item: CatalogItem, subject: String, extra: String = "") -> [UInt8] {
        Array(#"""
            {"item":"\#(item.code)","recordId":"r-1","subject":\#(subject),
             "fields":{"unrelated":"值","\#(item.decisionDateField)":"2026-03-02",\#(extra)
             "responsiblePersons":[{"name":"张三","residentId":"36010219800101001X","role":"legal-representative"},
                                   {"document":{"type":"passport","number":"E12345678"},"name":"Tom","role":"manager"}],
             "notes":{"deep":[1,2,{"x":null}]}}}
            """#.utf8)
    }

    static let subjects = [
        #"{"kind":"legal-person","name":"某公司","uscc":"91360100MA35X0000X"}"#,
        // Born 2012: a minor on the decision date (Article 27).
        #"{"kind":"natural-person","name":"王五","residentId":"360102201201010013"}"#,
        #"{"kind":"natural-person","name":"陈","document":{"type":"hk-macao-permit","number":"X1"}}"#,
    ]

    static let punishmentFields = [
        "", #""procedure":"simplified","#, #""severity":"minor","harmEliminated":true,"#, #""severity":"minor","harmEliminated":false,"#,
        #""severity":"serious","#,
    ]

    @Test func aProjectedRecordFilesAsTheWholeRecord() throws {
        var compared = 0
        for item in Self.catalog.items {
            for subject in Self.subjects {
                for extra in item.punishment ? Self.punishmentFields : [""] {
                    let bytes = Self.payload(item, subject: subject, extra: extra)
                    let whole = try #require(CreditRecord(accepted: try JSONValue.parse(bytes)))
                    let projected = try #require(CreditRecord(accepted: try JSONValue.parse(bytes, keeping: Self.catalog.filingProjection)))
                    #expect(projected.subject == whole.subject)
                    #expect(projected.acceptedPersons == whole.acceptedPersons)
                    let date = CivilDate(iso: "2026-03-02")!
                    #expect(projected.fields[item.decisionDateField] == whole.fields[item.decisionDateField], "\(item.code)")
                    #expect(Classification.classify(projected, item: item, decisionDate: date)
                            == Classification.classify(whole, item: item, decisionDate: date), "\(item.code) \(extra)")
                    #expect(projected.fields["unrelated"] == nil, "only what filing reads is built")
                    compared += 1
                }
            }
        }
        #expect(compared >= Self.catalog.items.count * Self.subjects.count)
    }
}
