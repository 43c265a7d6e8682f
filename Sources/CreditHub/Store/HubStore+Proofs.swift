public import Foundation
import GRDB
public import SyncProtocol

/// The hub log's proofs (`Protocol/hub-api.md`, Log proofs), built from the perfect subtrees the
/// merge keeps in `hub_tree`: a node verifies every new hub head against the one it pinned, an
/// auditor any entry against a head.
extension HubStore {
    /// The `hub_tree` key of a perfect subtree.
    static func treeNode(level: Int, index: UInt64) -> Int64 { Int64(level) << 56 | Int64(index) }

    /// The consistency proof from the hub log's first `first` entries to its first `second`.
    /// - Throws: ``ProofRangeError`` unless `first ≤ second ≤` the log's size.
    public func consistencyProof(first: UInt64, second: UInt64) throws -> [Hash32] {
        try writer.read { db in
            let size = try db.hubFrontier().size
            guard first <= second, second <= size else { throw ProofRangeError(first: first, second: second, size: size) }
            return try MerkleProofs.consistency(oldSize: first, newSize: second, perfect: try Self.perfect(db))
        }
    }

    /// Entry `position`'s leaf hash and its inclusion proof in the hub log's first `size` entries.
    /// - Throws: ``ProofRangeError`` unless `1 ≤ position ≤ size ≤` the log's size.
    public func inclusionProof(position: UInt64, size: UInt64) throws -> (leaf: Hash32, proof: [Hash32]) {
        try writer.read { db in
            let logSize = try db.hubFrontier().size
            guard position >= 1, position <= size, size <= logSize else { throw ProofRangeError(first: position, second: size, size: logSize) }
            let perfect = try Self.perfect(db)
            return (try perfect(0, position - 1), try MerkleProofs.inclusion(index: position - 1, size: size, perfect: perfect))
        }
    }

    /// The root of the hub log's first `size` entries, or `nil` past its end.
    public func hubRoot(size: UInt64) throws -> Hash32? {
        try writer.read { db in
            guard size <= (try db.hubFrontier().size) else { return nil }
            return try MerkleProofs.subtree(0, size, perfect: try Self.perfect(db))
        }
    }

    /// The fork reports kept per node. The heads a node reports are its own word: a hostile node
    /// could pin a new made-up head with every push, and without a bound fill the table and push
    /// other nodes' genuine reports off the status. The first ones are the evidence that counts.
    static let forkReportsKeptPerNode = 16

    /// Records that `node` reported pinning `pinned`, a head this log does not contain (the first
    /// ``forkReportsKeptPerNode`` different heads of each node).
    /// - Returns: whether the report is new and kept (what is counted, logged and alerted on).
    @discardableResult
    public func reportFork(node: String, pinned: TreeHead, at: Date) throws -> Bool {
        try writer.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO fork_report(node, pinned_size, pinned_root, hub_size, reported_at)
                SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT COUNT(*) FROM fork_report WHERE node = ?1) < ?6
                """, arguments: [node, Int64(pinned.size), pinned.root.data, Int64(try db.hubFrontier().size), Self.millis(at),
                                 Self.forkReportsKeptPerNode])
            return db.changesCount > 0
        }
    }

    /// The fork reports, newest first: each node's three newest, so that no node's reports hide
    /// another's.
    public func forkReports() throws -> [ForkReport] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY node ORDER BY reported_at DESC) AS n FROM fork_report)
                WHERE n <= 3 ORDER BY reported_at DESC
                """).map {
                ForkReport(node: $0["node"], pinnedSize: UInt64($0["pinned_size"] as Int64),
                           pinnedRoot: Hash32.from($0["pinned_root"] as Data).hex, hubSize: UInt64($0["hub_size"] as Int64),
                           reportedAt: Date(timeIntervalSince1970: Double($0["reported_at"] as Int64) / 1000))
            }
        }
    }

    private static func perfect(_ db: Database) throws -> (Int, UInt64) throws -> Hash32 {
        let statement = try db.cachedStatement(sql: "SELECT hash FROM hub_tree WHERE node = ?")
        return { level, index in
            guard let data = try Data.fetchOne(statement, arguments: [treeNode(level: level, index: index)]) else {
                throw RegistryError(description: "the hub log's tree lacks node \(level)/\(index)")
            }
            return Hash32.from(data)
        }
    }
}

/// A hub head a node pinned that the hub's log does not contain.
public struct ForkReport: Sendable, Codable, Equatable {
    public var node: String
    public var pinnedSize: UInt64
    public var pinnedRoot: String
    /// The hub log's size when the report came.
    public var hubSize: UInt64
    public var reportedAt: Date
}

/// A proof asked for beyond the log.
public struct ProofRangeError: Error, CustomStringConvertible {
    public var first: UInt64
    public var second: UInt64
    public var size: UInt64
    public var description: String { "no proof for \(first)…\(second): the hub log holds \(size) entries" }
}
