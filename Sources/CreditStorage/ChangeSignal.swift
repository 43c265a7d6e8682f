import Foundation
import Synchronization

/// Tells tasks waiting for a store to change that it has: the hub's long-polls wait for a merge,
/// a node's pusher for a write to its log.
///
/// Each signal counts a generation. A waiter reads the generation *before* it reads the store,
/// and waits for a later one: a change committed between its read and its wait is not missed
/// (it would otherwise sleep through it until its timeout).
public final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        /// The next wait's id: a count, not a `UUID`, whose every draw opened `/dev/urandom`
        /// (a province's hub waits hundreds of times a second).
        var nextWaiter: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits whose timeout ran out before they were registered.
        var expired: Set<UInt64> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// The current generation: read it before reading the store.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// How many tasks are waiting now.
    public var waiting: Int { state.withLock { $0.waiting.count } }

    /// The store changed: every waiter resumes.
    public func signal() {
        let all = state.withLock { state in
            defer { state.waiting.removeAll(); state.generation &+= 1 }
            return Array(state.waiting.values)
        }
        for continuation in all { continuation.resume() }
    }

    /// Suspends until a signal after `generation`, or `timeout`; returns at once when there
    /// was one already.
    public func wait(after generation: UInt64, timeout: Duration) async {
        let id = state.withLock { state in
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.state.withLock { state -> Bool in
                        if state.generation != generation || state.expired.remove(id) != nil { return true }
                        state.waiting[id] = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    guard let continuation = state.waiting.removeValue(forKey: id) else {
                        state.expired.insert(id)
                        return nil
                    }
                    return continuation
                }?.resume()
            }
            await group.next()
            group.cancelAll()
        }
        // Both children are done, so the continuation was resumed; only an expiry may be left.
        state.withLock { _ = $0.expired.remove(id) }
    }
}
