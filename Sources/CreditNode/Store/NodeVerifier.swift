import CreditStorage
import Foundation
import GRDB
public import SyncProtocol

/// An offline check of a node store, for operators and auditors: the log is contiguous and
/// every entry decodes to the change its sequence says; the leaf hashes and the saved tree head
/// are what the log's bytes give; each receipt is signed by the hub (when its key is given) and
/// acknowledges exactly the tree head this log had at that size; every local history row is in
/// the log; every record kept in a history row reads back as its content hash says.
public struct NodeVerifier {
    /// What the check found.
    public struct Report: Sendable, Codable {
        public var logSize: UInt64
        public var root: String
        public var receipts: Int
        public var acknowledged: UInt64
        public var records: Int
        public var problems: [String]
        /// What was checked against a live hub, when one was asked (`node verify --config`).
        public var live: [String] = []
        public var ok: Bool { problems.isEmpty }
    }

    /// Checks the store at `path` (opened read-only in effect: nothing is written).
    public static func verify(path: String, hubKeys: KeyRegistry?, hub: String = "360000") throws -> Report {
        try check(path: path, hubKeys: hubKeys, hub: hub).report
    }

    /// The offline check, with the tree the log gives and the hub head the node pinned.
    static func check(path: String, hubKeys: KeyRegistry?, hub: String) throws -> (report: Report, tree: MerkleTree, pinned: TreeHead?) {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: path, configuration: config)
        return try db.read { db in
            var problems: [String] = []
            var tree = MerkleTree()
            var node: String?
            let rows = try Row.fetchCursor(db, sql: "SELECT sequence, change, leaf_hash FROM log_entry ORDER BY sequence")
            var expected: UInt64 = 1
            // Rights changes (operations 4–7) are no record version: they have no history row.
            var versions: UInt64 = 0
            // Entries whose stored bytes do not read back: one problem each, and the tree goes on
            // with their stored leaf hash, so that the receipts after them are still checked.
            var unreadable = 0
            while let row = try rows.next() {
                let sequence = UInt64(row["sequence"] as Int64)
                if sequence != expected { problems.append("log gap: sequence \(sequence) follows \(expected - 1)"); expected = sequence }
                expected += 1
                let bytes: [UInt8]
                do { bytes = try StoredPayload.decompress(row["change"] as Data) } catch {
                    problems.append("log entry \(sequence): \(error)")
                    unreadable += 1
                    tree.append(leafHash: Hash32.from(row["leaf_hash"] as Data))
                    continue
                }
                let leaf = MerkleHash.leaf(bytes)
                if leaf != Hash32.from(row["leaf_hash"] as Data) { problems.append("log entry \(sequence): stored leaf hash does not match its bytes") }
                tree.append(leafHash: leaf)
                do {
                    let change = try Change(decoding: bytes)
                    if change.sequence != sequence { problems.append("log entry \(sequence) holds change \(change.sequence)") }
                    if node == nil { node = change.node } else if change.node != node { problems.append("log entry \(sequence) belongs to node \(change.node)") }
                    if !change.operation.isRights { versions += 1 }
                } catch {
                    problems.append("log entry \(sequence) does not decode: \(error)")
                }
            }
            let saved = try db.frontier(.logFrontier)
            if saved.size != tree.size || saved.root != tree.root() {
                problems.append("saved tree head \(saved.head) differs from the log's \(tree.head)")
            }
            var receipts = 0
            for row in try Row.fetchAll(db, sql: "SELECT last, envelope FROM receipt ORDER BY last") {
                receipts += 1
                let bytes = Array(row["envelope"] as Data)
                do {
                    let receipt: Receipt = if let hubKeys { try Receipt.open(bytes, hub: hub, keys: hubKeys) }
                        else { try Receipt(decodingBody: Envelope(decoding: bytes).payload) }
                    if receipt.last > tree.size {
                        problems.append("receipt for \(receipt.first)…\(receipt.last) is beyond the log (\(tree.size))")
                    } else if receipt.tree.root != tree.root(size: receipt.last) {
                        problems.append("receipt for \(receipt.first)…\(receipt.last) acknowledges a different log head")
                    }
                } catch {
                    problems.append("receipt ending at \(row["last"] as Int64) is not valid: \(error)")
                }
            }
            let acknowledged = try db.metaInt(.acknowledged)
            // An unreadable entry may or may not have been a record change: the count is not comparable.
            if let node, unreadable == 0 {
                // By sequence: a write the node took back as its record's version before reading a
                // changed hub log again has a second row (NodeStore.restoreOwnVersions).
                let local = try Int.fetchOne(db, sql: """
                    SELECT COUNT(DISTINCT origin_sequence) FROM record_version WHERE origin_node = ? AND hub_position IS NULL
                    """, arguments: [node]) ?? 0
                if UInt64(local) != versions { problems.append("\(local) local history rows for \(versions) record changes in the log") }
            }
            // The records the hub sent are kept in their history rows: each must read back as the
            // bytes its content hash names.
            let kept = try Row.fetchCursor(db, sql: "SELECT record_key, version, content_hash, payload FROM record_version WHERE length(payload) > 0")
            while let row = try kept.next() {
                let name = "history row \(row["record_key"] as String) v\(row["version"] as Int64)"
                do {
                    let payload = try StoredPayload.decompress(row["payload"] as Data)
                    if Hash32.sha256(payload).data != (row["content_hash"] as Data) { problems.append("\(name): record does not match its content hash") }
                } catch {
                    problems.append("\(name): \(error)")
                }
            }
            let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0
            let pinned = try db.pinnedHubHead()
            return (Report(logSize: tree.size, root: tree.root().hex, receipts: receipts, acknowledged: acknowledged,
                           records: records, problems: problems), tree, pinned)
        }
    }
}
