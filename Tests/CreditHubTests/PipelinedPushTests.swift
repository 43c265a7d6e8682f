@testable import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Synchronization
import Testing

/// Several change sets of one node in flight at once (`Protocol/hub-api.md`, Pipelining): the
/// hub merges them in log order whatever order they arrive in, a set whose predecessor never
/// comes is answered `gap`, and a window broken anywhere is resent byte for byte and
/// acknowledged exactly once.
@Suite struct PipelinedPushTests {
    let nodeKey = SyncFixtures.key("node-360100")

    /// The node's changes 1…`count` in sets of `size`, each signed, in log order.
    func sets(count: Int, size: Int) throws -> [[UInt8]] {
        var frontier = MerkleFrontier()
        var out: [[UInt8]] = []
        while frontier.size < UInt64(count) {
            let (envelope, set) = try SyncFixtures.changeSet(key: nodeKey, after: frontier, count: min(size, count - Int(frontier.size)))
            frontier = try set.extend(frontier)
            out.append(envelope.encoded)
        }
        return out
    }

    @Test func setsArrivingInReverseAreMergedInLogOrder() async throws {
        // Patience far beyond what the wait takes, even on a loaded machine.
        let h = try HubFixture(pipelinePatience: .seconds(120))
        try h.enroll("360100", key: nodeKey)
        let envelopes = try sets(count: 30, size: 10)
        // The third and second sets arrive first and wait, verified, for the first.
        let third = Task { try await h.hub.ingest(node: "360100", envelope: envelopes[2]) }
        while h.store.sequencer.waiting(node: "360100") < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let second = Task { try await h.hub.ingest(node: "360100", envelope: envelopes[1]) }
        while h.store.sequencer.waiting(node: "360100") < 2 { try await Task.sleep(for: .milliseconds(5)) }
        let first = try await h.hub.ingest(node: "360100", envelope: envelopes[0])
        let receipts = try [first, await second.value, await third.value].map { try Receipt.open($0, hub: "360000", keys: h.pinned) }
        #expect(receipts.map(\.last) == [10, 20, 30])
        #expect(try h.store.position(node: "360100")?.acknowledged == 30)
        #expect(try h.store.counts().equivocations == 0)
    }

    /// A node posting sets that wait for a predecessor holds at most its own places: another
    /// node's pushes go on (one node had filled all 32 and kept every other node out with 429).
    @Test func oneNodesWaitingSetsDoNotKeepOtherNodesOut() async throws {
        let h = try HubFixture(pipelinePatience: .seconds(5))
        try h.enroll("360100", key: nodeKey)
        let other = SyncFixtures.key("node-360700")
        try h.enroll("360700", key: other)
        let envelopes = try sets(count: 2 * (HubService.maxInFlightSetsPerNode + 2), size: 2)
        // Sets 2, 3, … wait for set 1, which never comes while they wait.
        let waiting = (1...HubService.maxInFlightSetsPerNode).map { i in Task { try await h.hub.ingest(node: "360100", envelope: envelopes[i]) } }
        while h.store.sequencer.waiting(node: "360100") < HubService.maxInFlightSetsPerNode { try await Task.sleep(for: .milliseconds(5)) }
        let refused: HubError? = await {
            do { _ = try await h.hub.ingest(node: "360100", envelope: envelopes[HubService.maxInFlightSetsPerNode + 1]); return nil } catch let e as HubError { return e } catch { return nil }
        }()
        #expect(refused?.code == "busy" && refused?.message.contains("node 360100 has 8 change sets in flight") == true, "\(String(describing: refused))")
        // Another node is not kept out.
        let (envelope, _) = try SyncFixtures.changeSet(node: "360700", key: other, count: 2)
        _ = try await h.hub.ingest(node: "360700", envelope: envelope.encoded)
        #expect(try h.store.position(node: "360700")?.acknowledged == 2)
        // The waiting sets hear `gap` and free their places; the node's window sent again in order is merged.
        for task in waiting { await #expect(throws: HubError.self) { _ = try await task.value } }
        for envelope in envelopes { _ = try await h.hub.ingest(node: "360100", envelope: envelope) }
        #expect(try h.store.position(node: "360100")?.acknowledged == UInt64(2 * envelopes.count))
    }

    @Test func aSetWhosePredecessorNeverComesIsAGapAndStoresNothing() async throws {
        let h = try HubFixture(pipelinePatience: .milliseconds(50))
        try h.enroll("360100", key: nodeKey)
        let envelopes = try sets(count: 20, size: 10)
        let refused: HubError? = await {
            do { _ = try await h.hub.ingest(node: "360100", envelope: envelopes[1]); return nil } catch let e as HubError { return e } catch { return nil }
        }()
        #expect(refused?.code == "gap" && refused?.expected == 1)
        #expect(try h.store.position(node: "360100")?.acknowledged == 0)
        #expect(h.store.evidenceLog.end == Int64(EvidenceLog.header.count), "a set that does not continue the log leaves no bytes in the evidence file")
        // The node then sends the window again from its first set.
        for envelope in envelopes { _ = try await h.hub.ingest(node: "360100", envelope: envelope) }
        #expect(try h.store.position(node: "360100")?.acknowledged == 20)
    }

    @Test func aWindowOfSetsIsAcknowledgedInOneRound() async throws {
        let h = try HubFixture(pipelinePatience: .seconds(120))
        let f = try NodeFixture(node: "360100", readScope: .all)
        try h.enroll("360100", key: f.key)
        _ = try f.service.submit(f.punishments(0..<25), by: f.identity)
        let p = h.pusher(f, maxChanges: 5, window: 4)
        #expect(try await p.pushOnce() == 20)
        #expect(try await p.pushOnce() == 5)
        #expect(try await p.pushOnce() == 0)
        #expect(try h.store.position(node: "360100")?.acknowledged == 25)
        #expect(try h.store.hubHead().size == 25)
        let state = try f.service.store.pushState()
        #expect(state.outbox.isEmpty && state.acknowledged == 25)
        #expect(try h.store.counts().equivocations == 0)
    }

    /// Every way a window breaks: the first request lost (the others wait, then hear `gap`), an
    /// answer lost in the middle, a request lost at the end. Each time the round stops at the
    /// first set not acknowledged, the outbox keeps the rest byte for byte, and the next round
    /// finishes the job without the hub seeing two sets for one range.
    @Test(arguments: [0, 1, 3]) func aBrokenWindowIsResentAsItWas(broken: Int) async throws {
        try await breakWindow(at: broken, how: broken == 1 ? .answerLost : .requestLost)
    }

    /// A set answered `gap` (overtaken, its patience ran out) after the one before it was taken:
    /// the sets from it on are resent as they were signed, never signed again, since a copy of
    /// the refused set may still be on its way to the hub.
    @Test func aSetRefusedAsAGapIsResentAsItWasSigned() async throws {
        try await breakWindow(at: 1, how: .refusedAsGap)
    }

    /// Eight copies of the next set sent at once (a node retrying in a hurry, or a hostile one
    /// filling the hub's disk): one is appended to the evidence file and merged, the others
    /// wait their turn and get its receipt.
    @Test func copiesOfOneSetSentAtOnceAreKeptOnce() async throws {
        let h = try HubFixture(pipelinePatience: .seconds(30))
        try h.enroll("360100", key: nodeKey)
        let envelope = try sets(count: 10, size: 10)[0]
        let before = h.store.evidenceLog.end
        let receipts = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<8 { group.addTask { try await h.hub.ingest(node: "360100", envelope: envelope) } }
            return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(Set(receipts).count == 1, "every copy gets the one receipt")
        #expect(h.store.evidenceLog.end - before == Int64(envelope.count), "the set's bytes are kept once")
        #expect(try h.store.position(node: "360100")?.acknowledged == 10)
    }

    /// Copies of a set further ahead, waiting for the set before it, wake together when it is
    /// handed over: one takes the turn, the others wait on for it and get its receipt.
    @Test func copiesWaitingForTheSetBeforeAreKeptOnce() async throws {
        let h = try HubFixture(pipelinePatience: .seconds(30))
        try h.enroll("360100", key: nodeKey)
        let envelopes = try sets(count: 20, size: 10)
        let before = h.store.evidenceLog.end
        let receipts = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<6 { group.addTask { try await h.hub.ingest(node: "360100", envelope: envelopes[1]) } }
            while h.store.sequencer.waiting(node: "360100") < 6 { try await Task.sleep(for: .milliseconds(5)) }
            group.addTask { try await h.hub.ingest(node: "360100", envelope: envelopes[0]) }
            return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(Set(receipts).count == 2)
        #expect(h.store.evidenceLog.end - before == Int64(envelopes[0].count + envelopes[1].count), "each set's bytes are kept once")
        #expect(try h.store.position(node: "360100")?.acknowledged == 20)
    }

    func breakWindow(at broken: Int, how: FlakyTransport.Break) async throws {
        // Long enough for the sets before a waiting one to be verified on a loaded machine; the
        // sets after a lost first one wait it out and hear `gap`.
        let h = try HubFixture(pipelinePatience: .seconds(5))
        let f = try NodeFixture(node: "360100", readScope: .all)
        try h.enroll("360100", key: f.key)
        _ = try f.service.submit(f.punishments(0..<40), by: f.identity)
        let flaky = FlakyTransport(hub: h.transport, breaking: broken, how: how)
        let p = h.pusher(f, transport: flaky, maxChanges: 10, window: 4)
        if how == .refusedAsGap {
            #expect(try await p.pushOnce() == broken * 10, "the sets before the gap are acknowledged")
        } else {
            await #expect(throws: Pusher.Failure.self) { try await p.pushOnce() }
        }
        let state = try f.service.store.pushState()
        #expect(state.acknowledged == UInt64(broken * 10), "receipts are recorded in order, up to the broken set")
        #expect(state.outbox.map(\.first) == Array(stride(from: UInt64(broken * 10 + 1), through: 31, by: 10)))
        let sent = flaky.sent
        var acknowledged = Int(state.acknowledged)
        while case let n = try await p.pushOnce(), n > 0 { acknowledged += n }
        #expect(acknowledged == 40)
        #expect(try h.store.position(node: "360100")?.acknowledged == 40)
        #expect(try h.store.counts().equivocations == 0)
        // The resent sets are the very bytes of the first round.
        let resent = flaky.sent.dropFirst(sent.count)
        for envelope in resent.prefix(4 - broken) { #expect(sent.contains(envelope)) }
    }
}

/// A link to the hub that breaks one push of the first window: its request is lost, the hub
/// takes it and its answer is lost, or it never reaches the hub and the answer is `gap`.
final class FlakyTransport: ForwardingTransport, @unchecked Sendable {
    enum Break { case requestLost, answerLost, refusedAsGap }

    let breaking: Int
    let how: Break
    private let pushes = Mutex<[[UInt8]]>([])

    init(hub: LocalHubTransport, breaking: Int, how: Break) {
        self.breaking = breaking
        self.how = how
        super.init(hub)
    }

    var sent: [[UInt8]] { pushes.withLock { $0 } }

    override func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
        let index = pushes.withLock { $0.append(envelope); return $0.count - 1 }
        let first = (try? ChangeSet(decodingBody: Envelope(decoding: envelope).payload).first) ?? 0
        let broken = index < 4 && first == UInt64(breaking * 10 + 1)
        if broken, how == .requestLost { throw .unreachable("request lost") }
        if broken, how == .refusedAsGap { throw .gap(expected: first) }
        let answer = try await inner.push(node: node, envelope: envelope, pinned: pinned)
        if broken { throw .unreachable("answer lost") }
        return answer
    }
}
