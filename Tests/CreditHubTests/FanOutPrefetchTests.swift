import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Synchronization
import Testing

/// A node behind asks for the next fan-out batch while it applies one, and takes the consistency
/// proof with the batch (`Protocol/hub-api.md`, fan-out).
@Suite struct FanOutPrefetchTests {
    /// Watches a receiver's requests, and can spoil the proofs the hub sends with its batches
    /// (`.proof`: those it answers when asked too, as a hub that rewrote its history would).
    final class Watching: ForwardingTransport, @unchecked Sendable {
        enum Spoil { case none, proof, sizes }
        let spoil: Spoil
        /// How long a proof asked for takes: time for a request ahead to go out meanwhile.
        let proofDelay: Duration
        let pulls = Mutex<[FanOutRequest]>([])
        let proofRequests = Mutex(0)
        let acknowledgements = Mutex(0)

        init(_ inner: any HubTransport, spoil: Spoil = .none, proofDelay: Duration = .zero) {
            self.spoil = spoil
            self.proofDelay = proofDelay
            super.init(inner)
        }

        override func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
            pulls.withLock { $0.append(request) }
            var answer = try await inner.pull(node: node, request)
            switch spoil {
            case .none: break
            case .proof: answer.consistency?.proof[0] = Hash32.sha256(Array("not this".utf8))
            case .sizes: answer.consistency?.first += 1
            }
            return answer
        }

        override func consistencyProof(first: UInt64, second: UInt64) async throws(TransportError) -> [Hash32] {
            proofRequests.withLock { $0 += 1 }
            if proofDelay > .zero { try? await Task.sleep(for: proofDelay) }
            var proof = try await inner.consistencyProof(first: first, second: second)
            if spoil == .proof, !proof.isEmpty { proof[0] = Hash32.sha256(Array("not this".utf8)) }
            return proof
        }

        override func acknowledge(node: String, through: UInt64) async throws(TransportError) {
            acknowledgements.withLock { $0 += 1 }
            try await inner.acknowledge(node: node, through: through)
        }
    }

    /// A hub serving batches of 10, with node 1 having pinned the head of a 5-change log and 40
    /// more changes merged since.
    func behind() async throws -> (HubFixture, [NodeFixture]) {
        let (h, nodes) = try HubFixture.federation(["360100", "360400"], fanOutLimit: 10)
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<5), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        #expect(try await h.receiver(nodes[1]).pullOnce(wait: 0) == 5)
        _ = try nodes[0].service.submit(nodes[0].punishments(5..<45), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        return (h, nodes)
    }

    /// One step at a time, the requests are exactly these.
    @Test func aNodeBehindAsksAheadAndTakesTheProofWithTheBatch() async throws {
        let (h, nodes) = try await behind()
        let link = Watching(h.transport)
        #expect(try await h.receiver(nodes[1], transport: link, lookahead: 0).follow(batches: 4, wait: 0) == 40)
        let pulls = link.pulls.withLock { $0 }
        // Each request after the first asks past the batch still being applied and acknowledges
        // only what is applied; the first names the pinned size and gets its proof along.
        #expect(pulls == [FanOutRequest(after: 5, pinned: 5), FanOutRequest(after: 15, applied: 5, pinned: 45),
                          FanOutRequest(after: 25, applied: 15, pinned: 45), FanOutRequest(after: 35, applied: 25, pinned: 45)])
        #expect(link.proofRequests.withLock { $0 } == 0)
        #expect(link.acknowledgements.withLock { $0 } == 0)
        #expect(try nodes[1].service.store.fanOutPosition() == 45)
        #expect(try nodes[1].service.store.hubHistoryConflicts() == 0)
        // The hub has heard of what was applied up to the request before the last.
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 25)
        // The next pull, at the head, asks nothing ahead and acknowledges the rest.
        #expect(try await h.receiver(nodes[1], transport: link).follow(batches: 1, wait: 0) == 0)
        #expect(link.pulls.withLock { $0.last } == FanOutRequest(after: 45, pinned: 45))
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 45)
    }

    /// Asked for by a task of its own, up to two batches ahead of the writer: each request
    /// acknowledges only what was applied when it was sent, and everything is applied in order.
    @Test func aNodeBehindAsksAheadWhileItWrites() async throws {
        let (h, nodes) = try await behind()
        let link = Watching(h.transport)
        let receiver = h.receiver(nodes[1], transport: link, lookahead: 2)
        #expect(try await receiver.follow(batches: 10, wait: 0) == 40)
        let pulls = link.pulls.withLock { $0 }
        #expect(pulls.map(\.after).prefix(5) == [5, 15, 25, 35, 45])
        // Each acknowledges a position the node had applied when it was sent: a batch's end, not
        // beyond what it asks after, never less than the request before.
        for (request, previous) in zip(pulls.dropFirst(), pulls) {
            #expect(request.applied <= request.after && request.applied >= previous.applied)
            #expect([5, 15, 25, 35, 45].contains(request.applied))
        }
        // The first request ahead waits for the first batch's head check and apply.
        #expect(pulls.count > 1 && pulls[1].applied == 15)
        #expect(link.proofRequests.withLock { $0 } == 0)
        #expect(try nodes[1].service.store.fanOutPosition() == 45)
        #expect(try nodes[1].service.store.hubHistoryConflicts() == 0)
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 45)
    }

    /// While a rights change of the node is on its way, a pull waits at most a second: a refused
    /// one adds nothing to the hub log, so only a pull after its receipt tells the node.
    @Test func aNodeWithARightsChangeOnItsWayPollsEverySecond() async throws {
        let (h, nodes) = try await behind()
        #expect(try await h.receiver(nodes[1]).follow(batches: 5, wait: 0) == 40)
        let link = Watching(h.transport)
        let record = nodes[0].punishments(2..<3)[0]
        guard case let .string(recordId)? = record.objectValue?["recordId"] else { Issue.record("no record id"); return }
        _ = try nodes[1].service.fileObjection(provider: nodes[0].identity.unit, item: "administrative-punishment", recordId: recordId,
                                               applicant: "赣江商贸有限公司", grounds: "记载有误", by: nodes[1].identity)
        _ = try await h.receiver(nodes[1], transport: link).follow(batches: 1, wait: 20)
        #expect(link.pulls.withLock { $0 }.map(\.waitSeconds) == [1])
        // Once it has come back, the pull waits as long as it is told.
        while try await h.pusher(nodes[1]).pushOnce() > 0 {}
        _ = try await h.receiver(nodes[1], transport: link).follow(batches: 1, wait: 0)
        #expect(try nodes[1].service.store.fanOutState().rightsPending == false)
    }

    @Test func aSpoiledProofWithTheBatchIsAHubHistoryConflict() async throws {
        let (h, nodes) = try await behind()
        let link = Watching(h.transport, spoil: .proof)
        #expect(try await h.receiver(nodes[1], transport: link).follow(batches: 1, wait: 0) == 0)
        #expect(try nodes[1].service.store.hubHistoryConflicts() == 1)
        #expect(try nodes[1].service.store.fanOutPosition() == 0, "the fan-out is read again from the start")
    }

    /// Catching up on a history that turns out rewritten (or a hub restored from an older
    /// backup): no request ahead acknowledges the node's old position on it, so no window of
    /// that history closes for changes the node never applied.
    @Test func aRequestAheadNeverAcknowledgesAPositionOnAHistoryThatFailedItsCheck() async throws {
        let (h, nodes) = try await behind()
        let link = Watching(h.transport, spoil: .proof, proofDelay: .milliseconds(200))
        _ = try await h.receiver(nodes[1], transport: link, lookahead: 2).follow(batches: 10, wait: 0)
        #expect(try nodes[1].service.store.hubHistoryConflicts() >= 1)
        // The requests asked ahead before the node reads the fan-out again from 0 acknowledge nothing.
        let ahead = link.pulls.withLock { $0 }.dropFirst().prefix { $0.after != 0 }
        #expect(!ahead.isEmpty && ahead.allSatisfy { $0.applied == 0 }, "\(ahead)")
    }

    @Test func aProofForOtherSizesIsAskedForInstead() async throws {
        let (h, nodes) = try await behind()
        let link = Watching(h.transport, spoil: .sizes)
        #expect(try await h.receiver(nodes[1], transport: link).follow(batches: 10, wait: 0) == 40)
        #expect(link.proofRequests.withLock { $0 } == 1)
        #expect(try nodes[1].service.store.hubHistoryConflicts() == 0)
    }

    @Test func aRequestCannotAcknowledgeBeyondWhereItAsks() async throws {
        let (h, _) = try await behind()
        let refused = await #expect(throws: TransportError.self) {
            try await h.transport.pull(node: "360400", FanOutRequest(after: 5, applied: 6))
        }
        #expect(refused == .refused(status: 400, code: "bad-request", message: "applied (6) must not be beyond after (5)"))
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 5)
    }
}
