public import Foundation

/// What the hub saw of one node's requests since it started, as `pg_stat_replication` shows a
/// replica: the version it runs, when and why its last request was refused, and how many were.
/// Refused requests change nothing in the store, so this lives in memory (`/v1/status`).
public struct NodeHealth: Sendable, Codable, Equatable {
    /// The node's `User-Agent` (`creditsync-node/VERSION`), from its last authenticated request.
    public var version: String?
    /// Requests refused since the hub started (a `gap` included: a node's retries show here).
    public var refusedRequests: Int = 0
    public var lastRefusedAt: Date?
    /// `status code: reason` of the last refusal.
    public var lastRefusal: String?
    /// Consecutive refusals since the node's last accepted request: its retry count.
    public var consecutiveRefusals: Int = 0
    public var lastAcceptedAt: Date?
    /// When a request of the node's last passed authentication: a node in its first long poll
    /// (25 s) has reached the hub though no request of it has finished yet.
    public var lastAuthenticatedAt: Date?

    public init() {}
}

extension HubService {
    /// Notes a node's request: accepted (with the version it sent) or refused with `error`.
    func noteRequest(node: String, userAgent: String?, refused error: HubError?) {
        let now = now()
        health.withLock { all in
            var h = all[node] ?? NodeHealth()
            if let error {
                h.refusedRequests += 1
                h.consecutiveRefusals += 1
                h.lastRefusedAt = now
                h.lastRefusal = "\(error.status.code) \(error.code): \(error.message)"
            } else {
                h.consecutiveRefusals = 0
                h.lastAcceptedAt = now
                if let userAgent { h.version = String(userAgent.prefix(64)) }
            }
            all[node] = h
        }
    }

    /// Notes that a request of `node` passed authentication (``NodeHealth/lastAuthenticatedAt``).
    func noteAuthenticated(node: String) {
        let now = now()
        health.withLock { all in all[node, default: NodeHealth()].lastAuthenticatedAt = now }
    }

    /// The health of the `enrolled` nodes as seen since the hub started: made-up node ids in
    /// refused requests are not shown.
    public func nodeHealth(enrolled: some Sequence<String>) -> [String: NodeHealth] {
        let enrolled = Set(enrolled)
        return health.withLock { all in all.filter { enrolled.contains($0.key) } }
    }
}
