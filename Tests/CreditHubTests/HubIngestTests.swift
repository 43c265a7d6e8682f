import CreditCore
@testable import CreditHub
import CreditNode
import CreditTesting
import Foundation
import GRDB
import SyncProtocol
import SyncTransport
import Synchronization
import Testing

/// A hub in process with nodes enrolled, and a clock the test moves.
final class HubFixture: Sendable {
    let hub: HubService
    /// The SQLite provincial store behind the service, for the registry and direct checks.
    let store: HubStore
    let hubKey = SyncFixtures.key("hub")
    let clock: VirtualClock

    /// A hub on the store at `path` (in memory when `nil`): a file, for a test that backs it up
    /// and restores it.
    init(now: Date = NodeFixture.now, pipelinePatience: Duration = .seconds(10), fanOutLimit: Int = 1000, path: String? = nil) throws {
        clock = VirtualClock(now)
        store = try HubStore(path: path, pipelinePatience: pipelinePatience)
        hub = try HubService(store: store, key: hubKey, reference: Fixtures.reference, fanOutLimit: fanOutLimit, now: clock.function)
    }

    var now: Date { clock.now }

    /// Enrolls `node`. The merge, rights and convergence tests write one unit's records through
    /// several nodes, so by default a node's area is the whole province (`areas: ["36"]`);
    /// `ProvidingAreaHubTests` enrolls nodes with their own area only (`areas: []`).
    func enroll(_ node: String, key: SigningKey, areas: [String] = ["36"]) throws {
        try store.addNode(id: node, name: "node \(node)", key: key.publicKey, at: now)
        if !areas.isEmpty { try store.changeArea(node: node, add: areas, remove: [], at: now) }
    }

    var transport: LocalHubTransport { LocalHubTransport(hub: hub) }
    var pinned: KeyRegistry {
        var r = KeyRegistry()
        try! r.enroll(hubKey.publicKey, for: "360000")
        return r
    }

    func pusher(_ f: NodeFixture, transport: (any HubTransport)? = nil, maxChanges: Int = 1000, window: Int = 4) -> Pusher {
        Pusher(node: f.service.node, store: f.service.store, transport: transport ?? self.transport, key: f.key, hub: "360000", hubKeys: pinned,
               configuration: .init(maxChanges: maxChanges, window: window), now: clock.function)
    }

    /// A hub with a node fixture for each of `ids`, enrolled, reading everything; with
    /// `sharedClock` the nodes read the hub's virtual clock, else their fixed one.
    static func federation(_ ids: [String], clock: Date = NodeFixture.now, sharedClock: Bool = false,
                           fanOutLimit: Int = 1000, path: String? = nil) throws -> (HubFixture, [NodeFixture]) {
        let h = try HubFixture(now: clock, fanOutLimit: fanOutLimit, path: path)
        let nodes = try ids.map { id -> NodeFixture in
            let f = sharedClock ? try NodeFixture(node: id, readScope: .all, now: h.clock.function) : try NodeFixture(node: id, readScope: .all)
            try h.enroll(id, key: f.key)
            return f
        }
        return (h, nodes)
    }

    func receiver(_ f: NodeFixture, transport: (any HubTransport)? = nil, lookahead: Int = 2) -> Receiver {
        Receiver(node: f.service.node, store: f.service.store, transport: transport ?? self.transport, hub: "360000", hubKeys: pinned,
                 reference: { Fixtures.reference }, now: clock.function, lookahead: lookahead)
    }
}

/// The negative ingest suite: everything the hub must refuse, with the status it answers.
@Suite struct HubIngestTests {
    let nodeKey = SyncFixtures.key("node-360100")
    let otherKey = SyncFixtures.key("node-360200")

    func fixture() throws -> HubFixture {
        let h = try HubFixture()
        try h.enroll("360100", key: nodeKey)
        try h.enroll("360200", key: otherKey)
        return h
    }

    func refusal(_ body: () async throws -> Void) async -> HubError? {
        do { try await body(); return nil } catch let e as HubError { return e } catch { return nil }
    }

    @Test func acceptsAndAcknowledgesIdempotently() async throws {
        let h = try fixture()
        let (envelope, set) = try SyncFixtures.changeSet(key: nodeKey, count: 5)
        let receipt = try Receipt.open(await h.hub.ingest(node: "360100", envelope: envelope.encoded), hub: "360000", keys: h.pinned)
        #expect(receipt.last == 5 && receipt.tree == set.after)
        #expect(receipt.envelopeDigest == Hash32.sha256(envelope.encoded))
        // Replay: the same receipt again, nothing merged twice.
        let again = try await h.hub.ingest(node: "360100", envelope: envelope.encoded)
        #expect(try Receipt.open(again, hub: "360000", keys: h.pinned) == receipt)
        // The fixtures' payloads are not catalog records: each change is refused once, the set is kept.
        #expect(try h.store.refusals().count == 5)
        #expect(try h.store.hubHead().size == 0)
        #expect(try h.store.position(node: "360100")?.acknowledged == 5)
    }

    /// A set the hub took, sent again after the key that signed it was revoked (its receipt was
    /// lost, then the node's key rotated): its stored receipt, not `untrusted-key`, which the
    /// node would meet for ever. A set the hub never took, signed by that key, is still refused.
    @Test func aSetAcceptedBeforeItsKeyWasRevokedStillAnswersItsReceipt() async throws {
        let h = try fixture()
        let (envelope, _) = try SyncFixtures.changeSet(key: nodeKey, count: 5)
        let receipt = try await h.hub.ingest(node: "360100", envelope: envelope.encoded)
        let newKey = SigningKey()
        try h.store.rotateKey(node: "360100", key: newKey.publicKey, revokeOthers: false, at: h.now)
        try h.store.revoke(node: "360100", keyId: nodeKey.keyId, at: h.now)
        #expect(try await h.hub.ingest(node: "360100", envelope: envelope.encoded) == receipt)
        #expect(try h.store.position(node: "360100")?.acknowledged == 5)
        let (other, _) = try SyncFixtures.changeSet(key: nodeKey, count: 6)
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: other.encoded) }?.code == "untrusted-key")
    }

    /// What is checked before a request's body is read: the header names, for the node of the
    /// path, a key active for it. A stranger who knows no key id is refused before the hub reads
    /// (and holds) up to 16 MiB for them.
    @Test func aRequestNamingNoActiveKeyOfItsNodeIsRefusedBeforeItsBody() throws {
        let h = try fixture()
        func header(node: String = "360100", key: String) -> RequestSignature.Parsed {
            RequestSignature.parse("\(HubPaths.authorizationScheme) node=\(node),key=\(key),ts=0,nonce=\(String(repeating: "a", count: 16)),sig=AA==")!
        }
        #expect(throws: Never.self) { _ = try h.hub.preauthorize(node: "360100", signature: header(key: nodeKey.keyId)) }
        for (node, parsed) in [("360100", header(key: otherKey.keyId)), ("360100", header(key: "0123456789abcdef0123456789abcdef")),
                               ("360200", header(key: nodeKey.keyId))] {
            #expect(throws: HubError.self) { _ = try h.hub.preauthorize(node: node, signature: parsed) }
        }
        try h.store.revoke(node: "360100", keyId: nodeKey.keyId, at: h.now)
        #expect(throws: HubError.self) { _ = try h.hub.preauthorize(node: "360100", signature: header(key: nodeKey.keyId)) }
    }

    /// A set whose signature was checked before its node or key was revoked, and whose merge
    /// comes after (it waited for its turn): the revocation holds, and nothing is merged.
    @Test func aRevocationWhileASetWaitsForItsMergeHolds() async throws {
        let h = try fixture()
        let (envelope, set) = try SyncFixtures.changeSet(key: nodeKey, count: 3)
        let prepared = PreparedSet(set, envelope: envelope.encoded, validator: nil)
        try h.store.revoke(node: "360100", keyId: nodeKey.keyId, at: h.now)
        #expect(try await h.store.ingest(prepared, hub: "360000", key: h.hubKey, receivedAt: h.now)
                == .untrusted(code: "untrusted-key", message: "key \(nodeKey.keyId) is not an active key of 360100"))
        try h.store.revoke(node: "360100", at: h.now)
        #expect(try await h.store.ingest(prepared, hub: "360000", key: h.hubKey, receivedAt: h.now)
                == .untrusted(code: "revoked-node", message: "node 360100 is revoked"))
        #expect(try h.store.position(node: "360100")?.acknowledged == 0)
    }

    @Test func refusesEverythingItMust() async throws {
        let h = try fixture()
        let (good, set) = try SyncFixtures.changeSet(key: nodeKey, count: 3)
        let bytes = good.encoded
        // Unsigned (no signatures), wrong key, another node's key, bit flip, truncation, oversized, wrong payload type.
        var unsigned = good
        unsigned.signatures = []
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: unsigned.encoded) }?.status == .badRequest)
        let stranger = try SyncFixtures.changeSet(key: SigningKey(), count: 3).0.encoded
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: stranger) }?.code == "untrusted-key")
        let otherNodesKey = try SyncFixtures.changeSet(node: "360100", key: otherKey, count: 3).0.encoded
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: otherNodesKey) }?.status == .forbidden)
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x04
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: flipped) } != nil)
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: Array(bytes.prefix(bytes.count - 10))) }?.status == .badRequest)
        let wrongType = try Envelope.sign(payloadType: Envelope.PayloadType.treeHead, payload: set.body, with: nodeKey).encoded
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: wrongType) }?.status == .unsupportedMediaType)
        // Posted under another node's path.
        #expect(await refusal { _ = try await h.hub.ingest(node: "360200", envelope: bytes) }?.status == .forbidden)
        // Unknown and revoked nodes.
        #expect(await refusal { _ = try await h.hub.ingest(node: "361100", envelope: bytes) }?.code == "unknown-node")
        // Nothing of that reached the store.
        #expect(try h.store.hubHead().size == 0)
        try h.store.revoke(node: "360100", keyId: nodeKey.keyId, at: h.now)
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: bytes) }?.code == "untrusted-key")
        try h.store.revoke(node: "360100", at: h.now)
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: bytes) }?.code == "revoked-node")
    }

    /// An operator's command run twice (a retried `hub node revoke`) changes nothing the second
    /// time: the revocation keeps its first time, the admin log one entry; an unknown key is an
    /// error that names it.
    @Test func revokingAgainChangesNothing() throws {
        let h = try fixture()
        let actions = try h.store.adminActions(after: 0).count
        #expect(try h.store.revoke(node: "360100", keyId: nodeKey.keyId, at: h.now))
        let revokedAt = try h.store.writer.read { try Int64.fetchOne($0, sql: "SELECT revoked_at FROM node_key WHERE key_id = ?", arguments: [nodeKey.keyId]) }
        #expect(try !h.store.revoke(node: "360100", keyId: nodeKey.keyId, at: h.now.addingTimeInterval(3600)))
        #expect(try h.store.writer.read { try Int64.fetchOne($0, sql: "SELECT revoked_at FROM node_key WHERE key_id = ?", arguments: [nodeKey.keyId]) } == revokedAt)
        #expect(try h.store.revoke(node: "360100", at: h.now))
        #expect(try !h.store.revoke(node: "360100", at: h.now.addingTimeInterval(60)))
        #expect(try h.store.adminActions(after: 0).count == actions + 2)
        #expect(throws: RegistryError.self) { try h.store.revoke(node: "360100", keyId: "no-such-key", at: h.now) }
        #expect(throws: RegistryError.self) { try h.store.revoke(node: "361100", at: h.now) }
    }

    /// An integer past 2^63 - 1 in a properly signed set is refused at decode time (it had
    /// crashed the hub, and the node resent the set forever); the hub goes on.
    @Test func anIntegerPastTheBoundInASignedSetIsRefused() async throws {
        let h = try fixture()
        // (A change's own times past the bound cannot even be framed into a set here; the
        // vectors carry one, signed, and the decoder refuses it the same way.)
        for createdAt in [UInt64(1) << 63, UInt64.max] {
            let change = SyncFixtures.change(sequence: 1)
            let set = try ChangeSet(node: "360100", keyId: nodeKey.keyId, encodedChanges: [change.encoded], before: MerkleFrontier(),
                                    createdAt: createdAt)
            let refused = await refusal { _ = try await h.hub.ingest(node: "360100", envelope: try set.signed(with: nodeKey).encoded) }
            #expect(refused?.code == "oversized" && refused?.status == .badRequest)
        }
        let (good, _) = try SyncFixtures.changeSet(key: nodeKey, count: 2)
        _ = try await h.hub.ingest(node: "360100", envelope: good.encoded)
        #expect(try h.store.position(node: "360100")?.acknowledged == 2)
    }

    @Test func gapsAndEquivocation() async throws {
        let h = try fixture()
        let (first, set1) = try SyncFixtures.changeSet(key: nodeKey, count: 3)
        let after1 = try set1.extend(MerkleFrontier())
        let (second, _) = try SyncFixtures.changeSet(key: nodeKey, after: after1, count: 2)
        // The second set before the first: a gap naming the expected position.
        let gap = await refusal { _ = try await h.hub.ingest(node: "360100", envelope: second.encoded) }
        #expect(gap?.status == .conflict && gap?.code == "gap" && gap?.expected == 1)
        _ = try await h.hub.ingest(node: "360100", envelope: first.encoded)
        _ = try await h.hub.ingest(node: "360100", envelope: second.encoded)
        // The same range with different content: equivocation, kept as evidence and counted.
        let forged = try SyncFixtures.changeSet(key: nodeKey, count: 3, payload: #"{"forged":true}"#).0.encoded
        let equivocation = await refusal { _ = try await h.hub.ingest(node: "360100", envelope: forged) }
        #expect(equivocation?.status == .conflict && equivocation?.code == "equivocation")
        #expect(try h.store.counts().equivocations == 1)
        #expect(h.hub.metrics.exposition().contains("creditsync_hub_equivocations_total{node=\"360100\"} 1"))
        // A node that equivocates again and again is counted every time, but only its first
        // envelopes are kept whole: it cannot fill the hub's disk.
        for i in 0..<20 {
            let again = try SyncFixtures.changeSet(key: nodeKey, count: 3, payload: #"{"forged":\#(i)}"#).0.encoded
            #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: again) }?.code == "equivocation")
        }
        #expect(try h.store.counts().equivocations == 21)
        #expect(try h.store.equivocationBytes(node: "360100") < 17 * forged.count)
        // The same changes regrouped: not equivocation, just a gap.
        let regrouped = try ChangeSet(node: "360100", keyId: nodeKey.keyId, encodedChanges: set1.encodedChanges, before: MerkleFrontier(),
                                      createdAt: 42).signed(with: nodeKey).encoded
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: regrouped) }?.code == "gap")
        #expect(try h.store.position(node: "360100")?.acknowledged == 5)
        #expect(try h.store.refusals().count == 5, "each accepted change was judged once")
    }

    @Test func treeHeadsThatDoNotFollowAreRefused() async throws {
        let h = try fixture()
        var (_, set) = try SyncFixtures.changeSet(key: nodeKey, count: 2)
        set.after.root = MerkleHash.leaf([UInt8(1)])
        let bad = try set.signed(with: nodeKey).encoded
        #expect(await refusal { _ = try await h.hub.ingest(node: "360100", envelope: bad) }?.status == .unprocessableContent)
    }
}

/// What a hostile or merely busy peer can make the hub hold is bounded.
@Suite struct HubBoundsTests {
    @Test func changeSetsBeyondTheInFlightBoundAreRefusedAsBusy() async throws {
        let store = try HubStore(path: nil)
        let hub = try HubService(store: store, key: SyncFixtures.key("hub"), reference: Fixtures.reference, maxInFlightSets: 0)
        let key = SigningKey()
        try store.addNode(id: "360100", name: "n", key: key.publicKey, at: NodeFixture.now)
        let envelope = try SyncFixtures.changeSet(key: key, count: 1).0.encoded
        do {
            _ = try await hub.ingest(node: "360100", envelope: envelope)
            Issue.record("a set beyond the bound was taken")
        } catch let error as HubError {
            #expect(error.status == .tooManyRequests && error.code == "busy")
        }
        #expect(try store.hubHead().size == 0)
        #expect(try store.position(node: "360100")?.acknowledged == 0)
    }

    @Test func aNodeHoldsAtMostFourLongPolls() async throws {
        let (h, _) = try HubFixture.federation(["360100"])
        final class Count: Sendable { let value = Mutex(0) }
        let count = Count()
        let polls = (0..<6).map { _ in Task {
            _ = try await h.hub.fanOut(node: "360100", FanOutRequest(after: 0, waitSeconds: 30))
            count.value.withLock { $0 += 1 }
        } }
        // Two of the six answer at once; four wait until the hub lets them go.
        for _ in 0..<200 where count.value.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(count.value.withLock { $0 } == 2)
        h.hub.drainLongPolls()
        for p in polls { try await p.value }
        #expect(count.value.withLock { $0 } == 6)
    }
}
