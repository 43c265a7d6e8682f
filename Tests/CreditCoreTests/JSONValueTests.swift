import CreditCore
import CreditTesting
import Foundation
import Testing

@Suite struct JSONValueTests {
    @Test func parsesKeepingNumbersAsWritten() throws {
        let v = try JSONValue.parse(Array(#" {"a": 0.20, "b": [true, false, null, -3, 1e2], "c": "x\"\\\/\n\u00e9\ud83d\ude00"} "#.utf8))
        #expect(v == .object(["a": .number("0.20"), "b": .array([.bool(true), .bool(false), .null, .number("-3"), .number("100")]),
                              "c": .string("x\"\\/\né😀")]))
    }

    /// Codable sees values, not text: a number it cannot keep exactly is an error, never 0 or
    /// a rounded value (an integer decoder reads 1e-400 as 0; Decimal has 38 digits).
    @Test func codableNeverTurnsANumberIntoZero() throws {
        for exact in ["0", "-12", "12.5", "0.1", "9223372036854775807", "123456789012345678901234567890.125"] {
            let encoded = try JSONEncoder().encode(JSONValue.array([.number(exact)]))
            let back = try JSONDecoder().decode(JSONValue.self, from: encoded)
            guard case let .array(items) = back, case let .number(n)? = items.first else { Issue.record("\(exact)"); continue }
            #expect(Decimal(string: n) == Decimal(string: exact), "\(exact) came back as \(n)")
        }
        for inexact in ["1e400", "1e-400", "123456789012345678901234567890123456789012"] {
            #expect(throws: EncodingError.self, "\(inexact)") { try JSONEncoder().encode(JSONValue.array([.number(inexact)])) }
        }
        for text in ["[1e-400]", "[1e400]"] {
            #expect(throws: DecodingError.self, "\(text)") { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
        }
    }

    @Test func writesCompactSortedJSONThatParsesBack() throws {
        let v = JSONValue.object(["b": .string("名称/\"\n\u{1}"), "a": .array([.number("0.5"), .null])])
        #expect(v.serialized == #"{"a":[0.5,null],"b":"名称/\"\n\u0001"}"#)
        #expect(try JSONValue.parse(Array(v.serialized.utf8)) == v)
        // Every record vector survives a round trip, and Foundation reads what we write.
        let file = try Fixtures.vectors("records.json", as: JSONValue.self)
        guard case let .array(vectors)? = file.objectValue?["vectors"] else { Issue.record("no vectors"); return }
        for vector in vectors {
            let record = try #require(vector.objectValue?["record"])
            #expect(try JSONValue.parse(Array(record.serialized.utf8)) == record)
            #expect(try JSONSerialization.jsonObject(with: Data(record.serialized.utf8)) is [String: Any])
        }
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "01", "1.", "\"\\x\"", "\"\u{1}\"", "[1] 2", "\"\\ud800\"", "{\"a\":1,}"])
    func refusesMalformedText(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(deep.utf8)) }
    }

    /// Inside a skipped member, too: a projection checks the whole text.
    @Test(arguments: ["{\"skip\":[1,]}", "{\"skip\":{\"a\" 1}}", "{\"skip\":\"\\x\"}", "{\"skip\":01}", "{\"skip\":\"\u{1}\"}",
                      "{\"skip\":tru}", "{\"skip\":1.}", "{\"keep\":1} 2", "{\"skip\":\"\\ud800\"}", "{\"skip\":[1}"])
    func projectionRefusesMalformedText(_ text: String) {
        let projection = JSONProjection(paths: ["keep"])
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(text.utf8), keeping: projection) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func projectionKeepsWhatItNamesAndNothingElse() throws {
        let text = #"{"subject":{"uscc":"91360100MA35X","name":"某公司 \"甲\""},"fields":{"CF_NR":"罚款","responsiblePersons":[{"residentId":"1","role":"legal"}],"n":-1.5e3},"item":"x","list":[true,false,null,{"a":[]}]}"#
        let full = try JSONValue.parse(Array(text.utf8))
        let projected = try JSONValue.parse(Array(text.utf8), keeping: JSONProjection(paths: ["subject", "fields.responsiblePersons"]))
        #expect(projected.objectValue?["subject"] == full.objectValue?["subject"])
        #expect(projected.objectValue?["fields"]?.objectValue?["responsiblePersons"] == full.objectValue?["fields"]?.objectValue?["responsiblePersons"])
        #expect(projected.objectValue?.keys.sorted() == ["fields", "subject"])
        #expect(projected.objectValue?["fields"]?.objectValue?.keys.sorted() == ["responsiblePersons"])
        // Not an object at the top: the value whole.
        #expect(try JSONValue.parse(Array("[1,2]".utf8), keeping: JSONProjection(paths: ["a"])) == .array([.number("1"), .number("2")]))
    }

    @Test func projectionPathsMergeAtEveryLevel() throws {
        let text = #"{"subject":{"uscc":"91360100MA35X","name":"某公司","document":{"type":"passport","number":"E1"}},"fields":{"a":1},"":{"x":1}}"#
        let projection = JSONProjection(paths: ["subject.uscc", "subject.document", "nothing.here"])
        #expect(projection.members.keys.sorted() == ["nothing", "subject"])
        let projected = try JSONValue.parse(Array(text.utf8), keeping: projection)
        #expect(projected.objectValue?.keys.sorted() == ["subject"])
        #expect(projected.objectValue?["subject"]?.objectValue?.keys.sorted() == ["document", "uscc"])
        #expect(projected.objectValue?["subject"]?.objectValue?["document"] == .object(["type": .string("passport"), "number": .string("E1")]))
        // An empty key is a key like any other.
        #expect(try JSONValue.parse(Array(text.utf8), keeping: JSONProjection(["": JSONProjection?.none])) == .object(["": .object(["x": .number("1")])]))
    }

    @Test func invalidUTF8IsRefusedInKeptAndSkippedStrings() throws {
        // A stray byte, a cut 4-byte form, a surrogate, overlong forms, past U+10FFFF, a lone
        // continuation byte, and a lead byte at the very end of the text.
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xF0, 0x9F, 0x98, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
                               [0x22, 0xC0, 0x80, 0x22], [0x22, 0xE0, 0x80, 0x80, 0x22], [0x22, 0xF0, 0x80, 0x80, 0x80, 0x22],
                               [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0x80, 0x22], [0x22, 0x61, 0xE6]] {
            #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(bytes) }
            let inObject = Array(#"{"skip":"#.utf8) + bytes + [0x7D]
            #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(inObject, keeping: JSONProjection(paths: ["keep"])) }
        }
        #expect(try JSONValue.parse(Array("\"江西\"".utf8)) == .string("江西"))
        // Every length of valid form, at the edges of its ranges.
        let valid = "\u{7F}\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFF}\u{10000}\u{10FFFF}é江😀"
        #expect(try JSONValue.parse(Array("\"\(valid)\"".utf8)) == .string(valid))
        #expect(try JSONValue.parse(Array("{\"skip\":\"\(valid)\",\"keep\":1}".utf8), keeping: JSONProjection(paths: ["keep"]))
                == .object(["keep": .number("1")]))
    }

    /// The direct writer and the general one agree byte for byte, for every record vector and
    /// for synthetic records of every subject kind.
    @Test func canonicalJSONIsTheSerializedRecord() throws {
        let file = try Fixtures.vectors("records.json", as: JSONValue.self)
        guard case let .array(vectors)? = file.objectValue?["vectors"] else { Issue.record("no vectors"); return }
        let validator = Fixtures.reference.validator(today: CivilDate(year: 2026, month: 11, day: 27)!)
        var checked = 0
        for vector in vectors {
            guard let accepted = validator.validate(try #require(vector.objectValue?["record"])).accepted else { continue }
            #expect(accepted.record.canonicalJSON == Array(accepted.record.jsonValue.serialized.utf8))
            #expect(accepted.canonicalJSON == accepted.record.canonicalJSON)
            checked += 1
        }
        #expect(checked > 0)
        let people = [Subject(kind: .naturalPerson, name: "张\"三\"", residentId: "11010519491231002X"),
                      Subject(kind: .naturalPerson, name: "Li", document: IdentityDocument(type: .passport, number: "E1234567")),
                      Subject(kind: .legalPerson, name: "某公司", uscc: "91110000600037341L")]
        for subject in people {
            let record = CreditRecord(item: "x", recordId: "r\u{1}", subject: subject, fields: ["b": .number("1"), "a": .array([.null, .bool(true)])])
            #expect(record.canonicalJSON == Array(record.jsonValue.serialized.utf8))
        }
    }
}
