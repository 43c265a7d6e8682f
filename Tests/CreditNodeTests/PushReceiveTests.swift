import CreditCore
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// The pusher and receiver against an in-memory hub with injected failures, lost receipts,
/// duplicates and restores.
@Suite struct PushReceiveTests {
    /// A pusher with one set in flight: the in-memory hub takes sets in the order they come,
    /// so a window is tested against the real hub (``PipelinedPushTests``).
    func pusher(_ f: NodeFixture, _ hub: InMemoryHub, maxChanges: Int = 1000) -> Pusher {
        Pusher(node: f.service.node, store: f.service.store, transport: hub, key: f.key, hub: hub.id, hubKeys: hub.publicKeys,
               configuration: .init(maxChanges: maxChanges, window: 1), now: { NodeFixture.now })
    }

    func receiver(_ f: NodeFixture, _ hub: InMemoryHub) -> Receiver {
        Receiver(node: f.service.node, store: f.service.store, transport: hub, hub: hub.id, hubKeys: hub.publicKeys,
                 reference: { Fixtures.reference }, now: { NodeFixture.now })
    }

    func node(_ id: String, _ hub: InMemoryHub) async throws -> NodeFixture {
        let f = try NodeFixture(node: id, readScope: .all)
        try await hub.enroll(f.key.publicKey, node: id)
        return f
    }

    @Test func pushesInBoundedSetsAndStoresReceipts() async throws {
        let hub = InMemoryHub()
        let f = try await node("360100", hub)
        _ = try f.service.submit(f.punishments(0..<25), by: f.identity)
        let p = pusher(f, hub, maxChanges: 10)
        #expect(try await p.pushOnce() == 10)
        #expect(try await p.pushOnce() == 10)
        #expect(try await p.pushOnce() == 5)
        #expect(try await p.pushOnce() == 0)
        #expect(await hub.acknowledged(node: "360100") == 25)
        let state = try f.service.store.pushState()
        #expect(state.acknowledged == 25)
        #expect(state.outbox.isEmpty)
        #expect(state.acknowledgedFrontier.head == (try f.service.store.logHead()))
    }

    @Test func writesMadeWhileASetIsInFlightLeaveBeforeItsReceipt() async throws {
        let hub = InMemoryHub()
        let f = try await node("360100", hub)
        _ = try f.service.submit(f.punishments(0..<5), by: f.identity)
        await hub.holdReceipts()
        let p = Pusher(node: f.service.node, store: f.service.store, transport: hub, key: f.key, hub: hub.id, hubKeys: hub.publicKeys,
                       configuration: .init(idleInterval: .milliseconds(5), window: 2), now: { NodeFixture.now })
        async let pushed = p.pushOnce()
        func pushes(reach count: Int) async throws -> Bool {
            for _ in 0..<1000 where await hub.pushCount < count { try await Task.sleep(for: .milliseconds(5)) }
            return await hub.pushCount >= count
        }
        #expect(try await pushes(reach: 1))
        // Written while the first set waits for its receipt: sent in a set of its own, at once.
        _ = try f.service.submit(f.punishments(5..<8), by: f.identity)
        #expect(try await pushes(reach: 2))
        #expect(await hub.acknowledged(node: "360100") == 8)
        #expect(try f.service.store.pushState().acknowledged == 0)
        await hub.releaseReceipts()
        #expect(try await pushed == 8)
        let state = try f.service.store.pushState()
        #expect(state.acknowledged == 8)
        #expect(state.outbox.isEmpty)
    }

    @Test func aLostReceiptIsRetriedWithTheSameBytes() async throws {
        let hub = InMemoryHub()
        let f = try await node("360100", hub)
        _ = try f.service.submit(f.punishments(0..<5), by: f.identity)
        await hub.loseReceipts(1)
        let p = pusher(f, hub)
        await #expect(throws: Pusher.Failure.self) { try await p.pushOnce() }
        // The hub stored the set; the node still has it in its outbox, identical.
        #expect(await hub.acknowledged(node: "360100") == 5)
        let outbox = try #require(try f.service.store.pushState().outbox.first)
        // More writes arrive meanwhile; the retry still sends exactly the stored set first.
        _ = try f.service.submit(f.punishments(5..<8), by: f.identity)
        #expect(try await p.pushOnce() == 5)
        #expect(await hub.equivocations == 0)
        #expect(try f.service.store.pushState().acknowledged == 5)
        #expect(outbox.last == 5)
        #expect(try await p.pushOnce() == 3)
    }

    @Test func transientFailuresAreRetriedAndNothingIsLost() async throws {
        let hub = InMemoryHub()
        let f = try await node("360100", hub)
        _ = try f.service.submit(f.punishments(0..<3), by: f.identity)
        await hub.fail(3, with: .unreachable("connection refused"))
        let p = pusher(f, hub)
        for _ in 0..<3 { await #expect(throws: Pusher.Failure.self) { try await p.pushOnce() } }
        #expect(try await p.pushOnce() == 3)
    }

    @Test func aLongOutageKeepsWritesAndCatchesUp() async throws {
        let hub = InMemoryHub()
        let f = try await node("360100", hub)
        await hub.fail(50, with: .unreachable("hub down"))
        let p = pusher(f, hub, maxChanges: 100)
        for batch in 0..<10 {
            let results = try f.service.submit(f.punishments(batch * 50..<(batch + 1) * 50), by: f.identity)
            #expect(results.allSatisfy { $0.status == .accepted })
            for _ in 0..<5 { await #expect(throws: Pusher.Failure.self) { try await p.pushOnce() } }
        }
        // The outbox holds the one set sealed at the first attempt (50 changes then); the rest of the
        // backlog waits in SQLite, not in memory.
        #expect(try f.service.store.pushState().outbox.map { $0.last - $0.first + 1 } == [50])
        #expect(try f.service.store.pushState().logSize == 500)
        var pushed = 0
        while case let n = try await p.pushOnce(), n > 0 { pushed += n }
        #expect(pushed == 500)
        #expect(await hub.acknowledged(node: "360100") == 500)
    }

    @Test func aHubRestoredFromAnOlderBackupIsRefed() async throws {
        let hub = InMemoryHub()
        let f = try await node("360100", hub)
        _ = try f.service.submit(f.punishments(0..<10), by: f.identity)
        let p = pusher(f, hub, maxChanges: 4)
        while try await p.pushOnce() > 0 {}
        await hub.rollBack(node: "360100", to: 4)
        _ = try f.service.submit(f.punishments(10..<12), by: f.identity)
        // The next push meets a gap, the node reconciles with the hub's position and re-feeds it.
        #expect(try await p.pushOnce() == 0)
        #expect(try f.service.store.pushState().acknowledged == 4)
        while try await p.pushOnce() > 0 {}
        #expect(await hub.acknowledged(node: "360100") == 12)
    }

    /// Nanchang's node with `count` records pushed to `hub`, and Ganzhou's, which has pulled nothing yet.
    func nanchangPushed(_ count: Int, to hub: InMemoryHub) async throws -> (nanchang: NodeFixture, ganzhou: NodeFixture) {
        let nanchang = try await node("360100", hub)
        let ganzhou = try await node("360700", hub)
        _ = try nanchang.service.submit(nanchang.punishments(0..<count), by: nanchang.identity)
        _ = try await pusher(nanchang, hub).pushOnce()
        return (nanchang, ganzhou)
    }

    @Test func theReceiverAppliesOtherNodesChangesAndCorrectionsIdempotently() async throws {
        let hub = InMemoryHub()
        let (nanchang, ganzhou) = try await nanchangPushed(3, to: hub)
        let r = receiver(ganzhou, hub)
        #expect(try await r.pullOnce(wait: 0) == 3)
        let key = RecordKey(provider: nanchang.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-1")
        #expect(try ganzhou.service.store.record(key)?.status == "active")
        // Nanchang revokes; the revocation reaches Ganzhou's copy.
        _ = try nanchang.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-1", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕1号", effectiveAt: nil, by: nanchang.identity)
        _ = try await pusher(nanchang, hub).pushOnce()
        #expect(try await r.pullOnce(wait: 0) == 1)
        let copy = try #require(try ganzhou.service.store.record(key))
        #expect(copy.status == "revoked")
        #expect(copy.history.last?.reason == "撤销")
        #expect(copy.history.last?.originNode == "360100")
        // The subject index works for fanned-out records too.
        #expect(try ganzhou.service.store.records(subject: "uscc:\(nanchang.generator.companyCode(2))").count == 1)
        // Pulling again changes nothing; the hub saw the acknowledgement.
        #expect(try await r.pullOnce(wait: 0) == 0)
        #expect(await hub.fanOutAcknowledged["360700"] == 4)
        // A node skips its own changes in the fan-out but moves its position past them.
        #expect(try await receiver(nanchang, hub).pullOnce(wait: 0) == 0)
        #expect(try nanchang.service.store.fanOutPosition() == 4)
    }

    /// A rights change the hub merged but this node cannot read (a node of another build, say)
    /// is not skipped: skipping it would lose a case's step while the position moved past it and
    /// was acknowledged. The batch is refused whole, naming the entry, and nothing moves.
    @Test func aRightsChangeTheNodeCannotReadStopsTheBatch() async throws {
        let hub = InMemoryHub()
        let (nanchang, ganzhou) = try await nanchangPushed(2, to: hub)
        // Nanchang's next change: an objection label whose document is not a rights document.
        let key = RecordKey(provider: nanchang.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-0")
        let before = try nanchang.service.store.logFrontier(through: 2)
        let label = Change(node: "360100", sequence: before.size + 1, key: key, operation: .objectionLabel, credential: "c",
                           reason: "", decisionDocument: "", effectiveAt: 1_790_000_000_000, acceptedAt: 1_790_000_000_000,
                           catalogVersion: "national@2026.1", payload: Array(#"{"not":"a rights document"}"#.utf8))
        let set = try ChangeSet(node: "360100", keyId: nanchang.key.keyId, encodedChanges: [label.encoded], before: before, createdAt: 1)
        _ = try await hub.push(node: "360100", envelope: try set.signed(with: nanchang.key).encoded, pinned: nil)

        let r = receiver(ganzhou, hub)
        await #expect(throws: WireError.self) { try await r.pullOnce(wait: 0) }
        #expect(try ganzhou.service.store.fanOutPosition() == 0, "nothing of the batch is applied, nor acknowledged")
        #expect(try ganzhou.service.store.stateDigest().records == 0)
        #expect(await hub.fanOutAcknowledged["360700"] ?? 0 == 0)
    }

    @Test func aBatchNotSignedByThePinnedHubKeyIsRefused() async throws {
        let impostor = InMemoryHub(key: SigningKey())
        let f = try await node("360100", impostor)
        let r = Receiver(node: "360100", store: f.service.store, transport: impostor, hub: "360000",
                         hubKeys: InMemoryHub().publicKeys, reference: { Fixtures.reference })
        await #expect(throws: WireError.self) { try await r.pullOnce(wait: 0) }
        #expect(try f.service.store.fanOutPosition() == 0)
    }

    /// A hub answer that is genuinely signed but is not the answer to what was asked is refused
    /// (sync.md, Receipt; hub-api.md, Fan-out): a receipt for an earlier set, replayed for the
    /// next, acknowledges nothing; a batch made for another node applies nothing.
    @Test func aSignedAnswerToAnotherQuestionIsRefused() async throws {
        final class Replaying: ForwardingTransport, @unchecked Sendable {
            var firstReceipt: [UInt8]?
            var batchesOf: String?
            override func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
                let receipt = try await inner.push(node: node, envelope: envelope, pinned: pinned)
                if let firstReceipt { return firstReceipt }
                firstReceipt = receipt
                return receipt
            }
            override func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
                try await inner.pull(node: batchesOf ?? node, request)
            }
        }
        let hub = InMemoryHub()
        let nanchang = try await node("360100", hub)
        let ganzhou = try await node("360700", hub)
        let link = Replaying(hub)
        _ = try nanchang.service.submit(nanchang.punishments(0..<4), by: nanchang.identity)
        let p = Pusher(node: "360100", store: nanchang.service.store, transport: link, key: nanchang.key, hub: hub.id, hubKeys: hub.publicKeys,
                       configuration: .init(maxChanges: 2, window: 1), now: { NodeFixture.now })
        #expect(try await p.pushOnce() == 2)
        await #expect(throws: Pusher.Failure.self) { try await p.pushOnce() }
        let state = try nanchang.service.store.pushState()
        #expect(state.acknowledged == 2 && state.outbox.map(\.first) == [3], "the set stays in the outbox, to be sent again")

        link.batchesOf = "360100"
        let r = Receiver(node: "360700", store: ganzhou.service.store, transport: link, hub: hub.id, hubKeys: hub.publicKeys,
                         reference: { Fixtures.reference }, now: { NodeFixture.now })
        await #expect(throws: WireError.self) { try await r.pullOnce(wait: 0) }
        #expect(try ganzhou.service.store.fanOutPosition() == 0)
        #expect(try ganzhou.service.store.stateDigest().records == 0)
        // The honest answers then go through.
        link.batchesOf = nil
        #expect(try await r.pullOnce(wait: 0) == 4)
    }

    /// hub-api.md, Position: a node whose push meets a `gap` checks the hub's root against its
    /// own log at that size. A hub holding another log for the node is not followed: the pusher
    /// stops with `diverged`, and neither the node's log nor its position and outbox move.
    @Test func aGapWhoseRootIsNotThisNodesLogIsDivergence() async throws {
        final class OtherLog: ForwardingTransport, @unchecked Sendable {
            override func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
                throw .gap(expected: 2)
            }
            override func position(node: String) async throws(TransportError) -> HubPosition {
                HubPosition(acknowledged: 1, treeRoot: MerkleHash.leaf(Array("another change".utf8)).hex)
            }
        }
        let hub = InMemoryHub()
        let f = try await node("360100", hub)
        _ = try f.service.submit(f.punishments(0..<3), by: f.identity)
        let p = Pusher(node: "360100", store: f.service.store, transport: OtherLog(hub), key: f.key, hub: hub.id, hubKeys: hub.publicKeys,
                       configuration: .init(maxChanges: 2, window: 1), now: { NodeFixture.now })
        do {
            _ = try await p.pushOnce()
            Issue.record("the pusher followed a hub that holds another log")
        } catch let Pusher.Failure.diverged(reason) {
            #expect(reason.contains("the hub's root"), "\(reason)")
        }
        // Nothing moved on its word: the signed set stays in the outbox, to be resent as it was.
        let state = try f.service.store.pushState()
        #expect(state.logSize == 3 && state.acknowledged == 0)
        #expect(state.outbox.map(\.first) == [1], "\(state.outbox)")
    }

    @Test func aNodeRestoredFromAnOlderBackupTakesBackItsChangesBeforeWriting() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = InMemoryHub()
        let path = dir.appendingPathComponent("node.sqlite").path
        var f = try NodeFixture(node: "360100", path: path, readScope: .all)
        try await hub.enroll(f.key.publicKey, node: "360100")
        _ = try f.service.submit(f.punishments(0..<10), by: f.identity)
        while try await pusher(f, hub).pushOnce() > 0 {}
        let backup = dir.appendingPathComponent("backup.sqlite").path
        try f.service.store.backup(to: backup)
        _ = try f.service.submit(f.punishments(10..<25), by: f.identity)
        while try await pusher(f, hub).pushOnce() > 0 {}
        #expect(await hub.acknowledged(node: "360100") == 25)

        // The disk is lost (the daemon with it); the backup (10 changes) is restored and marked.
        try f.service.store.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        let restored = try NodeStore(path: path, role: .operator)
        try restored.setRestorePending(true)
        f = try NodeFixture(node: "360100", path: path, readScope: .all)
        // Writes wait until the node has caught up, and so does the fan-out: a record a taken-back
        // change makes current is brought back to the hub's decision by the fan-out after it.
        #expect(throws: NodeError.self) { try f.service.submit(f.punishments(25..<26), by: f.identity) }
        let position = try f.service.store.fanOutPosition()
        #expect(try await receiver(f, hub).pullOnce(wait: 0) == 0)
        #expect(try await receiver(f, hub).follow(batches: 2, wait: 0) == 0)
        #expect(try f.service.store.fanOutPosition() == position)
        _ = try await pusher(f, hub).pushOnce()
        #expect(try f.service.store.pushState().logSize == 25)
        #expect(try f.service.store.pushState().acknowledged == 25)
        // A recovered record reads back whole, from the log entry recovered with it.
        let recovered = try #require(try f.service.store.record(RecordKey(provider: f.identity.unit, item: "administrative-punishment",
                                                                          recordId: "CF-360100-2026-20")))
        #expect(recovered.record.objectValue?["recordId"] == .string("CF-360100-2026-20"))
        #expect(recovered.history.map { $0.record?.objectValue?["recordId"] } == [.string("CF-360100-2026-20")])
        // New writes continue the log where the hub holds it; no equivocation.
        let next = try f.service.submit(f.punishments(25..<27), by: f.identity)
        #expect(next.map(\.sequence) == [26, 27])
        while try await pusher(f, hub).pushOnce() > 0 {}
        #expect(await hub.acknowledged(node: "360100") == 27)
        #expect(await hub.equivocations == 0)
    }
}
