import CreditCore
@testable import CreditHub
import CreditNode
import CreditTesting
import Foundation
import GRDB
import SyncProtocol
import Testing

/// The provincial store's own behaviour: the subject index through new versions, subscriptions
/// and group commit.
@Suite struct HubStoreTests {
    let hubKey = SyncFixtures.key("hub")
    let nanchang = SyncFixtures.key("node-360100")

    /// A record payload with a subject and Article 33 persons.
    static func payload(uscc: String, persons: [(String, String)], note: String = "") -> String {
        let list = persons.map { #"{"name":"某","residentId":"\#($0.0)","role":"\#($0.1)"}"# }.joined(separator: ",")
        return #"{"fields":{"CF_SY":"\#(note)","responsiblePersons":[\#(list)]},"item":"administrative-punishment","recordId":"r","subject":{"kind":"legal-person","name":"某公司","uscc":"\#(uscc)"}}"#
    }

    func change(_ sequence: UInt64, recordId: String, operation: ChangeOperation = .create, payload: String) -> [UInt8] {
        Change(node: "360100", sequence: sequence, key: RecordKey(provider: "11360100000001001X", item: "administrative-punishment", recordId: recordId),
               operation: operation, credential: "cred-1", reason: operation.isCorrection ? "复议变更" : "",
               decisionDocument: operation.isCorrection ? "洪复决〔2026〕9号" : "", effectiveAt: 1_790_000_000_000 + sequence,
               acceptedAt: 1_790_000_001_000 + sequence, catalogVersion: "national@2026.1", payload: Array(payload.utf8)).encoded
    }

    func push(_ store: HubStore, _ changes: [[UInt8]], after frontier: MerkleFrontier) async throws -> MerkleFrontier {
        let set = try ChangeSet(node: "360100", keyId: nanchang.keyId, encodedChanges: changes, before: frontier, createdAt: 1)
        let envelope = try set.signed(with: nanchang).encoded
        let outcome = try await store.ingest(PreparedSet(set, envelope: envelope, validator: nil), hub: "360000", key: hubKey, receivedAt: NodeFixture.now)
        guard case .receipt = outcome else { Issue.record("not merged: \(outcome)"); return frontier }
        return try set.extend(frontier)
    }

    @Test func theSubjectIndexFollowsEveryVersion() async throws {
        let store = try HubStore(path: nil)
        try store.addNode(id: "360100", name: "南昌", key: nanchang.publicKey, at: NodeFixture.now)
        let key = "11360100000001001X/administrative-punishment/CF-1"
        var frontier = try await push(store, [change(1, recordId: "CF-1", payload: Self.payload(uscc: "U1", persons: [("P1", "legal-representative"), ("P2", "directly-responsible-person")]))],
                                      after: MerkleFrontier())
        #expect(try store.records(subject: "uscc:U1").map(\.role) == ["subject"])
        #expect(try store.records(subject: "resident-id:P2").map(\.role) == ["directly-responsible-person"])
        // Folded into the main index, the entries answer the same; what follows updates both tables.
        try await store.foldSubjectIndex()
        #expect(try await store.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM subject_index_recent") } == 0)
        #expect(try store.records(subject: "resident-id:P2").map(\.role) == ["directly-responsible-person"])
        // A correction names another manager: P2 is no longer filed under the record, P3 is.
        frontier = try await push(store, [change(2, recordId: "CF-1", operation: .correct,
                                                 payload: Self.payload(uscc: "U1", persons: [("P1", "legal-representative"), ("P3", "directly-responsible-person")]))], after: frontier)
        #expect(try store.records(subject: "resident-id:P2").isEmpty)
        #expect(try store.records(subject: "resident-id:P3").map(\.recordKey) == [key])
        #expect(try store.records(subject: "resident-id:P1").count == 1)
        // A revocation carries no payload: the record stays filed under its subject, revoked.
        frontier = try await push(store, [change(3, recordId: "CF-1", operation: .revoke, payload: "")], after: frontier)
        #expect(try store.records(subject: "uscc:U1").map(\.status) == ["revoked"])
        #expect(try store.records(subject: "resident-id:P3").map(\.status) == ["revoked"])
        // Its history is the three versions, in order.
        #expect(try store.history(key).map(\.operation) == ["create", "correct", "revoke"])
        #expect(try store.history(key).map(\.position) == [1, 2, 3])
        #expect(try store.record(key)?.version == 3)
    }

    /// Every acknowledgement closes the windows it completes: what it reads must not grow with
    /// the history of corrections and rights cases (a full scan of them, hundreds of times a
    /// second in a province).
    @Test func anAcknowledgementReadsOnlyTheWindowsStillOpen() throws {
        let store = try HubStore(path: nil)
        let plans = try store.writer.write { db in
            try ([HubStore.correctionCompletion] + HubStore.windowCompletions).map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: [0, 10, 20]).map { $0["detail"] as String }.joined(separator: "; ")
            }
        }
        #expect(plans.count == 3)
        for plan in plans {
            #expect(!plan.contains("SCAN correction") && !plan.contains("SCAN rights_case"), "\(plan)")
            // Bounded to the positions the acknowledgement newly covers, at both ends.
            #expect(plan.contains("USING INDEX correction_open (completed_at=? AND rowid>? AND rowid<?)")
                    || plan.contains("_waiting (label_position>? AND label_position<?)") || plan.contains("_waiting (grant_position>? AND grant_position<?)"), "\(plan)")
        }
    }

    /// Every fan-out read finds the change sets holding the changes it serves: by the key at
    /// both ends, not by walking every set of the node from its first (a node's sets grow with
    /// its history: at two million sets the walk took a quarter of a second per read).
    @Test func aFanOutReadFindsItsChangeSetsByTheKeyAtBothEnds() throws {
        let store = try HubStore(path: nil)
        let plan = try store.writer.write { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + HubStore.setsHolding, arguments: ["360100", 10, 20])
                .map { $0["detail"] as String }
        }
        #expect(plan.count == 3, "\(plan)")
        #expect(plan.first?.contains("(node=? AND first>? AND first<?)") == true, "\(plan)")
        #expect(plan.last?.contains("(node=? AND first<?)") == true, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(plan)")
    }

    @Test func recentSubjectEntriesAreFoldedOnceThereAreEnough() async throws {
        let store = try HubStore(path: nil, subjectFoldThreshold: 5)
        try store.addNode(id: "360100", name: "南昌", key: nanchang.publicKey, at: NodeFixture.now)
        func counts() async throws -> (Int, Int) {
            try await store.writer.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM subject_index") ?? -1,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM subject_index_recent") ?? -1)
            }
        }
        var frontier = MerkleFrontier()
        frontier = try await push(store, (1...3).map { change(UInt64($0), recordId: "R\($0)", payload: Self.payload(uscc: "S\($0)", persons: [])) },
                                  after: frontier)
        #expect(try await counts() == (0, 3))
        frontier = try await push(store, (4...6).map { change(UInt64($0), recordId: "R\($0)", payload: Self.payload(uscc: "S\($0)", persons: [])) },
                                  after: frontier)
        #expect(try await counts() == (6, 0))
        for i in 1...6 { #expect(try store.records(subject: "uscc:S\(i)").count == 1) }
    }

    @Test func setsArrivingTogetherCommitTogetherAndAFailureStaysItsOwn() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try HubStore(path: dir.appendingPathComponent("hub.sqlite").path)
        let nodes = (1...8).map { String(360100 + $0 * 100) }
        let keys = nodes.map { SyncFixtures.key("node-\($0)") }
        for (node, key) in zip(nodes, keys) { try store.addNode(id: node, name: node, key: key.publicKey, at: NodeFixture.now) }
        let hubKey = self.hubKey
        let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            // Every node pushes at once, and so does a node the store does not know.
            for (node, key) in zip(nodes + ["369900"], keys + [SyncFixtures.key("stranger")]) {
                group.addTask {
                    let (envelope, set) = try SyncFixtures.changeSet(node: node, key: key, count: 50)
                    do {
                        _ = try await store.ingest(PreparedSet(set, envelope: envelope.encoded, validator: nil), hub: "360000", key: hubKey, receivedAt: NodeFixture.now)
                        return (node, true)
                    } catch {
                        return (node, false)
                    }
                }
            }
            return try await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(nodes.allSatisfy { outcomes[$0] == true })
        #expect(outcomes["369900"] == false)
        // All eight sets are held, and nothing of the refused one. They carry the same fifty
        // records, so the hub log has fifty entries and each record eight routes.
        #expect(try store.hubHead().size == 50)
        #expect(try store.record("11360100000001001X/administrative-punishment/CF-7")?.routes == nodes)
        for node in nodes { #expect(try store.position(node: node)?.acknowledged == 50) }
        #expect(try store.nodeChanges(node: "360200", after: 10, limit: 5).changes.map(\.0) == [11, 12, 13, 14, 15])
        // The page size of a new store, and FULL synchronous writes.
        #expect(try store.synchronousSetting() == 2)
    }
}
