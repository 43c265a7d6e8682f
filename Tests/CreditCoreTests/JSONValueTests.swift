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
}
