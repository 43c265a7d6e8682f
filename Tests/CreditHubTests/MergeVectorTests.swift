import CreditCore
import CreditHub
import CreditTesting
import Foundation
import SyncProtocol
import Testing

/// `Protocol/vectors/merge.json` run against the real hub store: each change's effect, the hub
/// log with its re-assertions, the conflicts listed and the record every node must end on.
@Suite struct MergeVectorTests {
    struct Vectors: Decodable {
        var scenarios: [Scenario]
    }

    struct Scenario: Decodable {
        var name: String
        var nodes: [String]
        var arrivals: [Arrival]
        var hubLog: [String]
        var conflicts: Int
        var final: Final?
    }

    struct Arrival: Decodable {
        var node: String
        var operation: String
        var content: String?
        var effect: String
    }

    struct Final: Decodable {
        var status: String
        var content: String?
    }

    static let scenarios: [Scenario] = (try? Fixtures.vectors("merge.json", as: Vectors.self).scenarios) ?? []

    static func payload(_ label: String?) -> [UInt8] { label.map { Array(#"{"content":"\#($0)"}"#.utf8) } ?? [] }

    @Test func theVectorsLoad() {
        #expect(Self.scenarios.count >= 8)
    }

    @Test(arguments: scenarios.map(\.name))
    func scenario(_ name: String) async throws {
        let s = try #require(Self.scenarios.first { $0.name == name })
        let store = try HubStore(path: nil)
        let hubKey = SyncFixtures.key("hub")
        var keys: [String: SigningKey] = [:]
        var frontiers: [String: MerkleFrontier] = [:]
        for node in s.nodes {
            keys[node] = SyncFixtures.key("node-\(node)")
            try store.addNode(id: node, name: node, key: keys[node]!.publicKey, at: NodeFixture.now)
        }
        let key = RecordKey(provider: "11360100000001001X", item: "administrative-punishment", recordId: "R")
        for (i, arrival) in s.arrivals.enumerated() {
            let operation = try #require(ChangeOperation.allCases.first { $0.name == arrival.operation })
            let before = frontiers[arrival.node] ?? MerkleFrontier()
            let change = Change(node: arrival.node, sequence: before.size + 1, key: key, operation: operation, credential: "c",
                                reason: operation.isCorrection ? "理由" : "", decisionDocument: operation.isCorrection ? "文书" : "",
                                effectiveAt: 1_790_000_000_000 + UInt64(i), acceptedAt: 1_790_000_000_000 + UInt64(i),
                                catalogVersion: "national@2026.1", payload: Self.payload(arrival.content))
            let set = try ChangeSet(node: arrival.node, keyId: keys[arrival.node]!.keyId, encodedChanges: [change.encoded], before: before,
                                    createdAt: 1)
            let envelope = try set.signed(with: keys[arrival.node]!).encoded
            let outcome = try await store.ingest(PreparedSet(set, envelope: envelope, validator: nil), hub: "360000", key: hubKey,
                                                 receivedAt: NodeFixture.now)
            guard case let .receipt(_, merged, refused) = outcome else { Issue.record("set \(i) not accepted: \(outcome)"); return }
            let effect = merged == 1 ? "effective" : refused.first.map { "refused:\($0.code)" } ?? "duplicate"
            #expect(effect == arrival.effect, "arrival \(i) of '\(name)'")
            frontiers[arrival.node] = try set.extend(before)
        }
        let log = try store.hubLog().map { "\($0.node)#\($0.sequence)\($0.reassert ? "+" : $0.toOrigin ? "*" : "")" }
        #expect(log == s.hubLog)
        #expect(try store.conflicts().count == s.conflicts)
        let held = try store.record(key.description)
        if let final = s.final {
            #expect(held?.status == final.status)
            let digest = try store.stateDigest()
            let line = final.status == "active"
                ? "\(key.description)\tactive\t\(Hash32.sha256(Self.payload(final.content)).hex)\n" : "\(key.description)\t\(final.status)\n"
            #expect(digest.digest == Hash32.sha256(Array(line.utf8)).hex)
        } else {
            #expect(held == nil)
        }
    }

    /// merge.md §4: a refusal re-asserts the record's version so that the refused node ends on
    /// it, once per change set: a set of fifty refused changes to one record adds one entry for
    /// every node to read, not fifty.
    @Test func aSetOfManyRefusalsOfOneRecordReassertsItOnce() async throws {
        let store = try HubStore(path: nil)
        let hubKey = SyncFixtures.key("hub")
        let keys = ["360100": SyncFixtures.key("node-360100"), "360200": SyncFixtures.key("node-360200")]
        for (node, key) in keys { try store.addNode(id: node, name: node, key: key.publicKey, at: NodeFixture.now) }
        let key = RecordKey(provider: "11360100000001001X", item: "administrative-punishment", recordId: "R")
        func push(_ node: String, _ labels: [String]) async throws {
            let changes = labels.enumerated().map { i, label in
                Change(node: node, sequence: UInt64(i + 1), key: key, operation: .create, credential: "c", reason: "", decisionDocument: "",
                       effectiveAt: 1_790_000_000_000, acceptedAt: 1_790_000_000_000, catalogVersion: "national@2026.1",
                       payload: Self.payload(label)).encoded
            }
            let set = try ChangeSet(node: node, keyId: keys[node]!.keyId, encodedChanges: changes, before: MerkleFrontier(), createdAt: 1)
            let outcome = try await store.ingest(PreparedSet(set, envelope: try set.signed(with: keys[node]!).encoded, validator: nil), hub: "360000",
                                                 key: hubKey, receivedAt: NodeFixture.now)
            guard case .receipt = outcome else { Issue.record("not accepted: \(outcome)"); return }
        }
        try await push("360100", ["a"])
        try await push("360200", (0..<50).map { "b\($0)" })
        #expect(try store.hubLog().map { "\($0.node)#\($0.sequence)\($0.reassert ? "+" : "")" } == ["360100#1", "360100#1+"])
        #expect(try store.refusals(limit: 100).count == 50)
    }
}
