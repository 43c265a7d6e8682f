public import NIOCore

/// What every creditsync HTTP listener (the hub's two, each node's) bounds for every client.
public enum ServerLimits {
    /// A connection with no request in progress — idle between requests, or with only part of a
    /// request head sent — is closed after this long. Without it a client holding thousands of
    /// sockets open and silent used up the hub's file descriptors, and honest pushes failed. A
    /// fan-out long poll (at most 60 s) is a request in progress, not idle.
    public static let idleTimeout: TimeAmount = .seconds(30)

    /// Reads `body` once, into a buffer up to `limit` bytes; `nil` when it is past the limit
    /// (`declaredTooLarge`: a body whose declared length is past it, kept not at all). Past the
    /// limit, the rest is read and dropped up to as much again (at least 1 MiB): a client that
    /// sent a little too much reads its 413 on a connection kept open. One that goes on past
    /// that is a stream with no end in sight, which the HTTP server would otherwise read and
    /// drop for as long as it came (Hummingbird drains an unread body before the next request):
    /// `connection` is closed, and the 413 goes unanswered. How every listener reads a body.
    public static func readBody<S: AsyncSequence>(_ body: S, upTo limit: Int, declaredTooLarge: Bool = false,
                                                  closing connection: (any Channel)?) async throws -> ByteBuffer?
        where S.Element == ByteBuffer {
        var collected = ByteBuffer()
        var total = 0, tooLarge = declaredTooLarge
        let most = limit + max(limit, 1 << 20)
        for try await chunk in body {
            total += chunk.readableBytes
            if total > limit { tooLarge = true }
            if total > most {
                connection?.close(promise: nil)
                return nil
            }
            if !tooLarge {
                var chunk = chunk
                collected.writeBuffer(&chunk)
            }
        }
        return tooLarge ? nil : collected
    }

    /// `read`, or the error `timedOut` makes once `seconds` have passed (`read` is then
    /// cancelled, which ends a request body's stream): how every listener bounds the time a
    /// request body takes, since a body trickled in a byte at a time is a request in progress,
    /// which the idle timeout does not see.
    public static func within<T: Sendable>(seconds: Double, timedOut: @escaping @Sendable () -> any Error,
                                           _ read: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask(operation: read)
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw timedOut()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
