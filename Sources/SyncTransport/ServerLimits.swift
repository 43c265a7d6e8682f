public import NIOCore

/// What every creditsync HTTP listener (the hub's two, each node's) bounds for every client.
public enum ServerLimits {
    /// A connection with no request in progress — idle between requests, or with only part of a
    /// request head sent — is closed after this long. Without it a client holding thousands of
    /// sockets open and silent used up the hub's file descriptors, and honest pushes failed. A
    /// fan-out long poll (at most 60 s) is a request in progress, not idle.
    public static let idleTimeout: TimeAmount = .seconds(30)

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
