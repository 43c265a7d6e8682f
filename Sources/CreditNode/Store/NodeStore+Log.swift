import CreditCore
import CreditStorage
import Foundation
import GRDB
public import SyncProtocol
public import SyncTransport

/// Where the node's pushes to the hub stand.
public struct PushState: Sendable, Equatable {
    /// The last sequence acknowledged by a hub receipt.
    public var acknowledged: UInt64
    /// The log's frontier at ``acknowledged``: the "before" of the next change set.
    public var acknowledgedFrontier: MerkleFrontier
    /// The log's size.
    public var logSize: UInt64
    /// Signed change sets persisted but not yet acknowledged, in log order: the pusher's window.
    public var outbox: [OutboxSet]
}

/// A signed change set in the outbox: resent byte for byte until the hub acknowledges it.
///
/// Its changes are the log's entries `first`…`last`, which the log keeps anyway; the outbox keeps
/// the rest of what was signed and the signature, and the envelope is rebuilt from the log
/// (``Pusher`` checks the signature on the rebuilt body). Keeping each envelope whole wrote every
/// change into the store twice more — into the outbox and, once acknowledged, out of it.
public struct OutboxSet: Sendable, Equatable {
    public var first: UInt64
    public var last: UInt64
    /// The key that signed the set.
    public var keyId: String
    /// The set's `createdAt`, as signed (milliseconds since 1970, UTC).
    public var createdAt: UInt64
    /// The envelope's signature over the set's body.
    public var signature: [UInt8]
}

extension NodeStore {
    /// The log's current tree head.
    public func logHead() throws -> TreeHead {
        try writer.read { try $0.frontier(.logFrontier).head }
    }

    /// The push state, read in one snapshot.
    public func pushState() throws -> PushState {
        try writer.read { db in
            let outbox = try Row.fetchAll(db, sql: "SELECT first, last, key_id, set_created_at, signature FROM outbox ORDER BY first")
            return PushState(acknowledged: try db.metaInt(.acknowledged), acknowledgedFrontier: try db.frontier(.acknowledgedFrontier),
                             logSize: try db.frontier(.logFrontier).size,
                             outbox: outbox.map { row in
                                 OutboxSet(first: UInt64(row[0] as Int64), last: UInt64(row[1] as Int64), keyId: row[2],
                                           createdAt: UInt64(row[3] as Int64), signature: Array(row[4] as Data))
                             })
        }
    }

    /// Up to `limit` encoded changes after `sequence`, stopping before `maxBytes`.
    public func changes(after sequence: UInt64, limit: Int, maxBytes: Int) throws -> [[UInt8]] {
        try writer.read { db in
            var out: [[UInt8]] = []
            var bytes = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT change FROM log_entry WHERE sequence > ? ORDER BY sequence LIMIT ?",
                                           arguments: [Int64(sequence), limit])
            while let row = try rows.next() {
                let change = try StoredPayload.decompress(row[0] as Data)
                if !out.isEmpty, bytes + change.count > maxBytes { break }
                bytes += change.count
                out.append(change)
            }
            return out
        }
    }

    /// Persists a signed change set before it is sent, after the sets already in the outbox:
    /// its range, what else its body holds, and `signature` (see ``OutboxSet``).
    public func saveOutbox(_ set: ChangeSet, signature: [UInt8], at: UInt64) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO outbox(first, last, key_id, set_created_at, signature, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [Int64(set.first), Int64(set.last), set.keyId, Int64(set.createdAt), Data(signature), Int64(at)])
        }
    }

    /// Drops the outbox's sets from the first one signed by a key other than `keyId` on, so that
    /// the next round signs their changes again with the node's current key. Only for sets the
    /// hub refused as signed by a key it no longer trusts: it holds none of them (a set it holds
    /// answers its receipt, whatever key signed it), and it takes the same changes signed again
    /// as the same range (`gap` if regrouped, never `equivocation`: `Protocol/hub-api.md`).
    /// - Returns: how many sets were dropped.
    @discardableResult
    public func dropOutbox(signedByOtherThan keyId: String) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE first >= (SELECT MIN(first) FROM outbox WHERE key_id != ?)", arguments: [keyId])
            return db.changesCount
        }
    }

    /// Records the hub's receipt: stores it, moves the acknowledged position and clears the outbox,
    /// in one transaction.
    public func recordReceipt(_ receipt: Receipt, envelope: [UInt8], frontier: MerkleFrontier, at: UInt64) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO receipt(last, first, tree_size, tree_root, envelope, received_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(last) DO NOTHING
                """, arguments: [Int64(receipt.last), Int64(receipt.first), Int64(receipt.tree.size), receipt.tree.root.data,
                                 Data(envelope), Int64(at)])
            if receipt.last > (try db.metaInt(.acknowledged)) {
                try db.setMetaInt(.acknowledged, receipt.last)
                try db.setFrontier(.acknowledgedFrontier, frontier)
            }
            try db.execute(sql: "DELETE FROM outbox WHERE last <= ?", arguments: [Int64(receipt.last)])
            try db.setMetaInt(.lastPushAt, at)
        }
    }

    /// The last sequence the hub acknowledged, as this node knows it.
    public func acknowledgedPosition() throws -> UInt64 {
        try writer.read { try $0.metaInt(.acknowledged) }
    }

    /// The receiver saw the hub hold less of this node's log than it acknowledged (a hub
    /// restored from an older backup): wakes the pusher to check the hub's position and re-feed
    /// it now, rather than at its next quiet check.
    public func hubPositionInDoubt() {
        positionDoubt.withLock { $0 = true }
        logAppended.signal()
    }

    /// Whether the hub's position is in doubt (``hubPositionInDoubt()``), clearing the mark.
    public func takeHubPositionDoubt() -> Bool {
        positionDoubt.withLock { doubt in
            defer { doubt = false }
            return doubt
        }
    }

    /// The frontier of this node's log through `size` (at most the log's size): the stored one
    /// at the acknowledged position or the log's end, else read from every leaf through `size`.
    public func logFrontier(through size: UInt64) throws -> MerkleFrontier {
        try writer.read { db in
            // The usual asks (the hub holds what it acknowledged, or the whole log) without a
            // read of the log: a receiver checks the hub's position this way before each batch
            // while a rights change is on its way.
            for key in [MetaKey.acknowledgedFrontier, .logFrontier] {
                let stored = try db.frontier(key)
                if stored.size == size { return stored }
            }
            var frontier = MerkleFrontier()
            let leaves = try Data.fetchCursor(db, sql: "SELECT leaf_hash FROM log_entry WHERE sequence <= ? ORDER BY sequence",
                                              arguments: [Int64(size)])
            while let leaf = try leaves.next() { frontier.append(leafHash: Hash32.from(leaf)) }
            return frontier
        }
    }

    /// This log's frontier at the hub's `position` when the hub holds this log as it is here
    /// (the same root at that size); `nil` when it holds another log, or more than this one.
    public func logFrontier(matching position: HubPosition) throws -> MerkleFrontier? {
        let frontier = try logFrontier(through: position.acknowledged)
        return frontier.size == position.acknowledged && frontier.root.hex == position.treeRoot ? frontier : nil
    }

    /// Moves the acknowledged position to what the hub says it holds (after a restore on either
    /// side, or a pipelined set the hub refused as a gap): `frontier`, this log's frontier at that
    /// size (``logFrontier(through:)``), which the caller has checked against the hub's root.
    ///
    /// The hub's refusals of the changes after `size` are taken back (``learnRefusals(_:)``).
    ///
    /// The outbox sets that continue from there stay as they were signed, to be resent byte for
    /// byte: a set overtaken in a window and answered `gap` may have a copy still on its way to
    /// the hub, and signing its range again would make that copy and the new set two different
    /// sets for one range (equivocation). Sets that do not continue from there are dropped.
    public func resetPush(to frontier: MerkleFrontier) throws {
        try writer.write { db in
            let size = frontier.size
            guard size <= (try db.frontier(.logFrontier).size) else {
                throw WireError.inconsistent("the hub's position \(size) is past this node's log")
            }
            let acknowledged = try db.metaInt(.acknowledged)
            if size != acknowledged {
                try db.setMetaInt(.acknowledged, size)
                try db.setFrontier(.acknowledgedFrontier, frontier)
            }
            if size < acknowledged {
                // Likewise for what it said of this node's rights changes: those it refused are
                // pending again, to be settled by the fan-out once the hub has them again, however
                // it decides them this time.
                try db.reopenRefusedRights(after: size)
                // What the old hub said of this node's record writes is void: those it no longer
                // holds are pushed again and merged anew, and a race may end the other way this
                // time; so may one it holds again already, from a set this node sent before and the
                // network delivered late. The node learns the restored hub's word from the start.
                try db.forgetRefusals()
            }
            try db.execute(sql: "DELETE FROM outbox WHERE first <= ?", arguments: [Int64(size)])
            if let first = try Int64.fetchOne(db, sql: "SELECT MIN(first) FROM outbox"), first != Int64(size) + 1 {
                try db.execute(sql: "DELETE FROM outbox")
            }
        }
    }

    /// When the oldest change not yet acknowledged by the hub was accepted, if any.
    public func oldestUnpushedAcceptedAt() throws -> UInt64? {
        try writer.read { db in
            let ack = try db.metaInt(.acknowledged)
            return try Int64.fetchOne(db, sql: "SELECT accepted_at FROM log_entry WHERE sequence = ?", arguments: [Int64(ack + 1)]).map(UInt64.init)
        }
    }

    /// `node`'s own corrections and revocations the hub has not acknowledged, by the day (in
    /// China) they took effect: that day's count and its earliest effective time in
    /// milliseconds. Article 41's first window (3 working days to reach the hub) runs from
    /// that date, and until the hub receives the change only this node can flag it.
    public func unpushedCorrectionsByDay(node: String) throws -> [(effectiveAt: UInt64, count: Int)] {
        try writer.read { db in
            let ack = try db.metaInt(.acknowledged)
            return try Row.fetchAll(db, sql: """
                SELECT MIN(effective_at) AS earliest, COUNT(*) AS n FROM record_version
                WHERE origin_node = ? AND origin_sequence > ? AND operation IN ('correct', 'revoke')
                GROUP BY (effective_at + ?) / 86400000
                """, arguments: [node, Int64(ack), Int64(ChinaTime.offset) * 1000]).map { (UInt64(max(0, $0["earliest"] as Int64)), $0["n"]) }
        }
    }

    /// Millisecond timestamps of the last successful push and fan-out, 0 when never.
    public func lastActivity() throws -> (push: UInt64, fanOut: UInt64) {
        try writer.read { (try $0.metaInt(.lastPushAt), try $0.metaInt(.lastFanOutAt)) }
    }
}

