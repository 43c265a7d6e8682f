import Foundation
import CreditStorage
import GRDB
import SyncProtocol

/// Small named values of the node's state, kept in the `meta` table.
enum MetaKey: String {
    /// The compact frontier of the node's whole log.
    case logFrontier = "log.frontier"
    /// The last sequence the hub has acknowledged with a receipt.
    case acknowledged = "push.acknowledged"
    /// The compact frontier of the log at the acknowledged position.
    case acknowledgedFrontier = "push.frontier"
    /// The last hub log position applied from fan-out.
    case fanOutApplied = "fanout.applied"
    /// The hub log tree head seen in the last applied batch (pinned).
    case hubHead = "fanout.hubHead"
    /// When the last push succeeded (milliseconds).
    case lastPushAt = "push.lastAt"
    /// When the last fan-out batch was applied (milliseconds).
    case lastFanOutAt = "fanout.lastAt"
    /// Set by `creditsync restore`: the store came from a backup and must catch up with what the
    /// hub already holds of this node's log before it accepts new writes.
    case restorePending = "restore.pending"
    /// The last sequence of this node's log through which the hub's refusals are known
    /// (``NodeStore/learnRefusals(_:)``).
    case refusalsThrough = "refusals.through"
    /// The hub process whose word that is (``SyncTransport/RefusalList/incarnation``).
    case refusalsIncarnation = "refusals.incarnation"
}

extension Database {
    // Cached statements: every fan-out batch and every push reads and sets a few of these, and
    // compiling a statement (with GRDB's authorizer watching each column it reads) cost a node
    // woken for a handful of records more than running it.
    func meta(_ key: MetaKey) throws -> Data? {
        try Data.fetchOne(try cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key.rawValue])
    }

    func setMeta(_ key: MetaKey, _ value: Data) throws {
        try cachedStatement(sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(arguments: [key.rawValue, value])
    }

    func metaInt(_ key: MetaKey) throws -> UInt64 {
        guard let data = try meta(key), let text = String(data: data, encoding: .utf8), let n = UInt64(text) else { return 0 }
        return n
    }

    func setMetaInt(_ key: MetaKey, _ value: UInt64) throws {
        try setMeta(key, Data(String(value).utf8))
    }

    func frontier(_ key: MetaKey) throws -> MerkleFrontier {
        guard let data = try meta(key) else { return MerkleFrontier() }
        return try MerkleFrontier(encoded: Array(data))
    }

    func setFrontier(_ key: MetaKey, _ frontier: MerkleFrontier) throws {
        try setMeta(key, Data(frontier.encoded))
    }
}

extension NodeStore {
    /// The state digest of the node's records (`Protocol/merge.md` §5).
    public func stateDigest() throws -> (digest: String, records: Int) {
        try writer.read { try StateDigest.compute($0) }
    }
}
