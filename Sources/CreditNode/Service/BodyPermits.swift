import Synchronization

/// At most a fixed number of request bodies inside the node at once; the others wait their turn,
/// first come first served.
///
/// A body is up to 16 MiB and its tree of records several times that: with no bound, a provider
/// whose uploader opens fifty connections at once held gigabytes and could have the node killed
/// for memory. A waiting request's body is not read (the connection's backpressure holds it), so
/// the node's memory is bounded by the permits, not by its clients. Writes go through one writer
/// anyway: a few bodies at once keep it busy, more only queue inside the node.
public final class BodyPermits: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
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

    /// Waits for a permit.
    public func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.free > 0 { s.free -= 1; return true }
                s.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Returns a permit: to the longest waiting request, if any.
    public func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiting.isEmpty { s.free += 1; return nil }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }

    /// Runs `body` holding a permit.
    public func with<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }
}
