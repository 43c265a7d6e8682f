import Foundation
import Synchronization

/// Lets each node's change sets into the writer in log order when the node sends several at
/// once (`Protocol/hub-api.md`, Pipelining).
///
/// A node keeps a few sets in flight, as TCP keeps a window of segments: the hub verifies them in
/// parallel, and the one that continues the node's log goes to the writer first. A set further
/// ahead waits here, after its verification, until the sets before it have been handed to the
/// writer — not committed: the writer runs its jobs in the order they were handed over, so a
/// set queued behind its predecessor sees it merged, often in the same transaction.
///
/// The wait is bounded: a set whose predecessor never comes (the node crashed mid-window, or a
/// hostile node sent it alone) proceeds after ``patience`` and is answered `gap`, as it would be
/// without pipelining. A set that does not end in a receipt resets the node's turn to what the
/// store last committed, so the sets queued behind it are answered `gap` too and the node
/// resends from the first one the hub lacks.
final class IngestSequencer: Sendable {
    private struct Waiter {
        let first: UInt64
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        /// The sequence each node's next set is expected to start at, counting sets already
        /// handed to the writer; absent: the store's committed size + 1.
        var next: [String: UInt64] = [:]
        var waiting: [String: [UUID: Waiter]] = [:]
        /// Waits whose patience ran out before they were registered.
        var expired: Set<UUID> = []
    }

    private let state = Mutex(State())
    /// How long a set waits for the sets before it.
    let patience: Duration

    init(patience: Duration = .seconds(10)) {
        self.patience = patience
    }

    /// Waits until the sets before `first` have been handed to the writer, or ``patience`` has
    /// passed. Returns whether the set is now the one the node's log continues with.
    func turn(node: String, first: UInt64, committed: UInt64) async -> Bool {
        let id = UUID()
        let ready = state.withLock { state -> Bool in
            first <= state.next[node, default: committed + 1]
        }
        if !ready, patience > .zero {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if first <= state.next[node, default: committed + 1] || state.expired.remove(id) != nil { return true }
                            state.waiting[node, default: [:]][id] = Waiter(first: first, continuation: continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: self.patience)
                    self.state.withLock { state -> Waiter? in
                        guard let waiter = state.waiting[node]?.removeValue(forKey: id) else {
                            state.expired.insert(id)
                            return nil
                        }
                        return waiter
                    }?.continuation.resume()
                }
                await group.next()
                group.cancelAll()
            }
            state.withLock { _ = $0.expired.remove(id) }
        }
        return state.withLock { first == $0.next[node, default: committed + 1] }
    }

    /// How many of `node`'s sets are waiting for their turn now.
    func waiting(node: String) -> Int { state.withLock { $0.waiting[node]?.count ?? 0 } }

    /// The set ending at `last` was handed to the writer: the node's next set may follow it.
    func handedOver(node: String, through last: UInt64) {
        wake(state.withLock { state -> [Waiter] in
            let next = max(state.next[node] ?? 0, last + 1)
            state.next[node] = next
            return Self.take(from: &state, node: node) { $0.first <= next }
        })
    }

    /// A set of `node` did not end in a receipt: later sets are judged against the store again.
    func reset(node: String) {
        wake(state.withLock { state -> [Waiter] in
            state.next.removeValue(forKey: node)
            return Self.take(from: &state, node: node) { _ in true }
        })
    }

    private static func take(from state: inout State, node: String, where due: (Waiter) -> Bool) -> [Waiter] {
        guard let waiting = state.waiting[node] else { return [] }
        let ready = waiting.filter { due($0.value) }
        for id in ready.keys { state.waiting[node]?.removeValue(forKey: id) }
        return Array(ready.values)
    }

    private func wake(_ waiters: [Waiter]) {
        for waiter in waiters { waiter.continuation.resume() }
    }
}
