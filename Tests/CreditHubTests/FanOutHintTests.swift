@testable import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// A node whose last answer reached the head is held for its slot without a read of the store
/// first (``HeadHint``): what merged meanwhile must still reach it at its slot, and a node a burst
/// left more than a batch behind must still be answered at once.
@Suite struct FanOutHintTests {
    @Test func theHintHoldsOnlyANodeBackAtTheHeadItReachedWithAFewEntriesSince() {
        // Batches of 1,000 entries and 8 MiB, changes of up to 1 MiB: eight entries surely fit.
        let hint = HeadHint(size: 100, batchLimit: 1000, maxBytes: 8 << 20, largestChange: 1 << 20)
        #expect(hint.few == 8)
        #expect(hint.size(node: "360400", after: 100) == nil, "never answered: read first")
        hint.answered(node: "360400", to: 100, head: 100)
        #expect(hint.size(node: "360400", after: 100) == 100, "nothing new since")
        #expect(hint.size(node: "360400", after: 90) == nil, "asks from elsewhere than it reached")
        hint.merged(size: 108)
        #expect(hint.size(node: "360400", after: 100) == 108, "eight since")
        hint.merged(size: 109)
        #expect(hint.size(node: "360400", after: 100) == nil, "nine since: its batch might end before the head by bytes")
        // An answer that did not reach the head holds nothing; a merge whose size was not read forgets every node.
        hint.answered(node: "360400", to: 105, head: 109)
        #expect(hint.size(node: "360400", after: 105) == nil)
        hint.answered(node: "360500", to: 109, head: 109)
        hint.merged(size: nil)
        #expect(hint.size(node: "360500", after: 109) == nil)
        // A batch of one entry: only a node with nothing new is held.
        #expect(HeadHint(size: 0, batchLimit: 1, maxBytes: 8 << 20, largestChange: 1 << 20).few == 0)
    }

    /// `body`'s answer, or `nil` when it takes longer than `seconds` (a node held for its 30 s
    /// long poll instead of its slot).
    func within<T: Sendable>(_ seconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    func batch(_ answer: FanOutAnswer, _ h: HubFixture) throws -> FanOutBatch {
        try FanOutBatch.open(answer.batch, hub: "360000", keys: h.pinned)
    }

    @Test func whatMergedSinceANodeReachedTheHeadReachesItAtItsSlot() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360400"], fanOutLimit: 10)
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<5), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        let first = try batch(try await h.hub.fanOut(node: "360400", FanOutRequest(after: 0, waitSeconds: 30)), h)
        #expect(first.to == 5 && first.hubLog.size == 5)

        // Three more merge before the node asks again from the head it reached.
        _ = try nodes[0].service.submit(nodes[0].punishments(5..<8), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        let next = try await within(10) { try await h.hub.fanOut(node: "360400", FanOutRequest(after: 5, waitSeconds: 30)) }
        let second = try batch(try #require(next, "held past its slot: the hint missed the merge"), h)
        #expect(second.entries.map(\.position) == [6, 7, 8] && second.to == 8)

        // Nothing new: held until the next merge, then answered with it.
        let held = Task { try await h.hub.fanOut(node: "360400", FanOutRequest(after: 8, waitSeconds: 30)) }
        try await Task.sleep(for: .milliseconds(100))
        _ = try nodes[0].service.submit(nodes[0].punishments(8..<9), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        let woken = try await within(10) { try await held.value }
        #expect(try batch(try #require(woken, "a merge did not wake the long poll"), h).entries.map(\.position) == [9])
    }

    @Test func aNodeABurstLeftMoreThanABatchBehindIsAnsweredAtOnce() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360400"], fanOutLimit: 10)
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<5), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        #expect(try batch(try await h.hub.fanOut(node: "360400", FanOutRequest(after: 0, waitSeconds: 30)), h).to == 5)
        _ = try nodes[0].service.submit(nodes[0].punishments(5..<45), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}

        // Forty behind with batches of ten: read first (the hint holds only a few since, which its
        // own test checks), and answered with a batch that ends before the head, not held for the poll.
        let answer = try await within(10) { try await h.hub.fanOut(node: "360400", FanOutRequest(after: 5, waitSeconds: 30)) }
        let next = try batch(try #require(answer), h)
        #expect(next.to == 15 && next.hubLog.size == 45)
        // The node's next request is read first again (its last answer did not reach the head).
        let after = try batch(try #require(try await within(10) { try await h.hub.fanOut(node: "360400", FanOutRequest(after: 15, waitSeconds: 30)) }), h)
        #expect(after.from == 16 && after.to == 25)
    }
}
