import CreditCore
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// The signed documents a node takes from the hub, refused when they are not what was asked.
///
/// `Protocol/README.md`, Conventions: "A receiver MUST refuse an object that has the same key
/// twice." Foundation's decoder keeps one of the two, so every signed document a node takes from
/// the hub is read by the project's parser first. Each test signs the same document with and
/// without the fault, so it fails if the refusal goes and also if the document is wrong.
struct SignedDocumentTests {
    let hubKey = SyncFixtures.key("hub")

    var pinned: KeyRegistry {
        var registry = KeyRegistry()
        try! registry.enroll(hubKey.publicKey, for: "360000")
        return registry
    }

    func signed(_ type: String, _ json: String) throws -> [UInt8] {
        try Envelope.sign(payloadType: type, payload: Array(json.utf8), with: hubKey).encoded
    }

    @Test func theParserRefusesAKeyTwiceAndTheDecoderThenRuns() throws {
        struct Pair: Decodable, Equatable { var a: Int }
        #expect(try JSONValue.decode(Pair.self, from: Array(#"{"a":1}"#.utf8)) == Pair(a: 1))
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.decode(Pair.self, from: Array(#"{"a":1,"a":2}"#.utf8)) }
        // Nested objects too.
        struct Outer: Decodable { var p: Pair }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.decode(Outer.self, from: Array(#"{"p":{"a":1,"a":1}}"#.utf8)) }
    }

    @Test func aSignedPositionWithAKeyTwiceIsRefused() throws {
        let root = String(repeating: "0", count: 64)
        let good = #"{"acknowledged":31,"at":1,"node":"360100","treeRoot":"\#(root)"}"#
        let twice = #"{"acknowledged":31,"acknowledged":9,"at":1,"node":"360100","treeRoot":"\#(root)"}"#
        #expect(try SignedPosition.open(try signed(Envelope.PayloadType.position, good), hub: "360000", keys: pinned, node: "360100").acknowledged == 31)
        #expect(throws: JSONValue.ParseError.self) {
            try SignedPosition.open(try signed(Envelope.PayloadType.position, twice), hub: "360000", keys: pinned, node: "360100")
        }
    }

    @Test func aSignedManifestWithAKeyTwiceIsRefused() throws {
        let file = #"{"path":"calendar/holiday-cn-2027.json","sha256":"\#(String(repeating: "a", count: 64))","size":10}"#
        let twice = #"{"path":"calendar/holiday-cn-2027.json","path":"../../etc/passwd","sha256":"\#(String(repeating: "a", count: 64))","size":10}"#
        #expect(try ReferenceManifest.open(try signed(ReferenceManifest.payloadType, #"{"files":[\#(file)]}"#), hub: "360000", keys: pinned).files.count == 1)
        #expect(throws: JSONValue.ParseError.self) {
            try ReferenceManifest.open(try signed(ReferenceManifest.payloadType, #"{"files":[\#(twice)]}"#), hub: "360000", keys: pinned)
        }
    }

    @Test func aReferenceFileWithAKeyTwiceIsRefused() throws {
        let notice = #"{"year":2027,"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}"#
        #expect(try HolidayFile.decode(Data(notice.utf8), source: "holiday-cn-2027.json").year == 2027)
        let twice = #"{"year":2027,"year":2028,"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}"#
        #expect(throws: CalendarError.self) { try HolidayFile.decode(Data(twice.utf8), source: "holiday-cn-2027.json") }
        do {
            _ = try Catalog.decodeLayer(Data(#"{"format":"creditsync-catalog/1","format":"creditsync-catalog/1"}"#.utf8), source: "city.json")
            Issue.record("a catalog layer with a key twice was read")
        } catch {
            #expect("\(error)".contains("city.json") && "\(error)".contains("appears twice"), "\(error)")
        }
    }

    /// hub-api.md, Subject attestation: the node MUST verify the signature and check that the
    /// attestation is about the subject it asked, by the hub it pins.
    @Test func anAttestationAboutAnotherSubjectOrByAnotherHubIsRefused() throws {
        func attestation(subject: String, hub: String = "360000") throws -> [UInt8] {
            try SubjectAttestation(hub: hub, node: "360700", subject: subject, hubLogSize: 0, hubLogRoot: String(repeating: "0", count: 64),
                                   at: 1, records: []).signed(with: hubKey)
        }
        let asked = "uscc:91360100MA35F2K0X1"
        #expect(try SubjectAttestation.open(try attestation(subject: asked), hub: "360000", keys: pinned, subject: asked).subject == asked)
        #expect(throws: WireError.self) {
            try SubjectAttestation.open(try attestation(subject: "uscc:913601007055208829"), hub: "360000", keys: pinned, subject: asked)
        }
        #expect(throws: WireError.self) { try SubjectAttestation.open(try attestation(subject: asked, hub: "360100"), hub: "360000", keys: pinned, subject: asked) }
        #expect(throws: (any Error).self) {
            try SubjectAttestation.open(try Envelope.sign(payloadType: SubjectAttestation.payloadType, payload: Array("{}".utf8), with: SigningKey()).encoded,
                                        hub: "360000", keys: pinned, subject: asked)
        }
    }
}
