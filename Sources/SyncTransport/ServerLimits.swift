public import NIOCore

/// What every creditsync HTTP listener (the hub's two, each node's) bounds for every client.
public enum ServerLimits {
    /// A connection with no request in progress — idle between requests, or with only part of a
    /// request head sent — is closed after this long. Without it a client holding thousands of
    /// sockets open and silent used up the hub's file descriptors, and honest pushes failed. A
    /// fan-out long poll (at most 60 s) is a request in progress, not idle.
    public static let idleTimeout: TimeAmount = .seconds(30)
}
