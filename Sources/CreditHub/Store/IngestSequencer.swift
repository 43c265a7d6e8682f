import CreditStorage
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
    private struct State {
        /// The sequence each node's next set is expected to start at, counting sets already
        /// handed to the writer; absent: the store's committed size + 1.
        var next: [String: UInt64] = [:]
        /// Sets waiting for their turn, per node.
        var waiting: [String: Int] = [:]
        /// How many times each node's turn was reset: a waiting set stops waiting then.
        var resets: [String: Int] = [:]
        /// The first sequence of the set each node has been given its turn and not yet handed
        /// over: a copy of that set sent meanwhile waits as a set further ahead does, so that
        /// eight copies sent at once are not all appended to the evidence file.
        var claimed: [String: UInt64] = [:]
    }

    private let state = Mutex(State())
    /// Signalled whenever a node's turn moves.
    private let moved = ChangeSignal()
    /// How long a set waits for the sets before it.
    let patience: Duration

    init(patience: Duration = .seconds(10)) {
        self.patience = patience
    }

    /// Waits until the sets before `first` have been handed to the writer, or ``patience`` has
    /// passed. Returns whether the set is now the one the node's log continues with.
    func turn(node: String, first: UInt64, committed: UInt64) async -> Bool {
        enum Verdict { case continues, behind, early }
        let deadline = ContinuousClock.now + patience
        var resets: Int?
        defer { if resets != nil { state.withLock { $0.waiting[node, default: 1] -= 1 } } }
        while true {
            let generation = moved.generation
            // The turn is taken in the same step as it is judged: of several copies of one set
            // woken together, one takes it and the others wait on (for its handing over, after
            // which they are behind and get its receipt).
            let verdict = state.withLock { state -> Verdict in
                let next = state.next[node, default: committed + 1]
                if first < next { return .behind }
                if first == next, state.claimed[node] != first {
                    state.claimed[node] = first
                    return .continues
                }
                return .early
            }
            switch verdict {
            case .continues: return true
            case .behind: return false
            case .early: break
            }
            guard patience > .zero else { return false }
            let seen = resets ?? state.withLock { state -> Int in
                state.waiting[node, default: 0] += 1
                return state.resets[node, default: 0]
            }
            resets = seen
            guard state.withLock({ $0.resets[node, default: 0] }) == seen, case let left = deadline - .now, left > .zero else { return false }
            await moved.wait(after: generation, timeout: left)
        }
    }

    /// How many of `node`'s sets are waiting for their turn now.
    func waiting(node: String) -> Int { state.withLock { $0.waiting[node] ?? 0 } }

    /// The set ending at `last` was handed to the writer: the node's next set may follow it.
    func handedOver(node: String, through last: UInt64) {
        state.withLock { state in
            state.next[node] = max(state.next[node] ?? 0, last + 1)
            state.claimed.removeValue(forKey: node)
        }
        moved.signal()
    }

    /// A set of `node` did not end in a receipt: later sets are judged against the store again.
    func reset(node: String) {
        state.withLock { state in
            state.next.removeValue(forKey: node)
            state.claimed.removeValue(forKey: node)
            state.resets[node, default: 0] += 1
        }
        moved.signal()
    }
}
