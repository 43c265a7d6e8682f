import Synchronization

/// At most a fixed number of request bodies inside the node at once; the others wait their turn,
/// first come first served, for a while.
///
/// A body is up to 16 MiB and its tree of records several times that: with no bound, a provider
/// whose uploader opens fifty connections at once held gigabytes and could have the node killed
/// for memory. A waiting request's body is not read (the connection's backpressure holds it), so
/// the node's memory is bounded by the permits, not by its clients. Writes go through one writer
/// anyway: a few bodies at once keep it busy, more only queue inside the node.
///
/// The wait is bounded (``acquire(within:)``): a connection whose body is not read looks idle to
/// the listener, which closes one silent for 30 s (`ServerLimits.idleTimeout`) without a word; a
/// request that waited too long is answered 503 `busy` first, and the client tries again.
public final class BodyPermits: Sendable {
    private struct State {
        var free: Int
        var nextTicket = 0
        var waiting: [(ticket: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private let state: Mutex<State>
    /// How many permits there are.
    public let count: Int

    public init(_ count: Int) {
        precondition(count > 0, "at least one request body must be let in")
        self.count = count
        state = Mutex(State(free: count))
    }

    /// Requests waiting for a permit.
    public var waiting: Int { state.withLock { $0.waiting.count } }

    /// Waits for a permit, at most `seconds`.
    /// - Returns: whether one was had; `false` when the time ran out first.
    public func acquire(within seconds: Double) async -> Bool {
        let ticket = state.withLock { s -> Int? in
            if s.free > 0 { s.free -= 1; return nil }
            s.nextTicket += 1
            return s.nextTicket
        }
        guard let ticket else { return true }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            state.withLock { $0.waiting.append((ticket, continuation)) }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                // Still waiting: give up the place. Already let in: nothing to do.
                let expired = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                    guard let i = s.waiting.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                    return s.waiting.remove(at: i).continuation
                }
                expired?.resume(returning: false)
            }
        }
    }

    /// Returns a permit: to the longest waiting request, if any.
    public func release() {
        let next = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if s.waiting.isEmpty { s.free += 1; return nil }
            return s.waiting.removeFirst().continuation
        }
        next?.resume(returning: true)
    }
}
