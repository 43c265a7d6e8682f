public import Foundation
import GRDB
import CreditStorage
public import SyncProtocol
public import SyncTransport

/// A node's standing as operators see it.
public struct NodeLag: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var status: String
    /// The last sequence of the node's log the hub holds.
    public var acknowledged: UInt64
    public var pushes: Int
    public var lastSeen: Date?
    /// The hub log position the node has applied.
    public var fanOutApplied: UInt64
    /// Hub-log changes of other nodes the node has not applied yet.
    public var lagChanges: Int
    /// Age of the oldest of those changes, in seconds (0 when none), from the provider's
    /// acknowledged write at its origin node: both hops, not only the hub's. Read from the
    /// next ``HubStore/lagAgeWindow`` changes waiting, in the hub's order.
    public var lagSeconds: Double
}

/// The changes waiting for a node, as counted: those in `after`…`through` it receives under
/// `subscription`.
struct PendingCount: Sendable {
    var after: Int64
    var through: Int64
    var subscription: String?
    var count: Int
}

/// An acknowledgement of fan-out positions the hub never served the node.
public struct AcknowledgementError: Error, CustomStringConvertible {
    public var node: String
    public var through: UInt64
    public var served: UInt64
    public var description: String {
        "node \(node) acknowledged its fan-out through \(through), but was served only through \(served)"
    }
}

/// One correction or revocation as stored.
public struct CorrectionRow: Sendable, Codable, Equatable {
    public var hubPosition: UInt64
    public var recordKey: String
    public var operation: String
    public var originNode: String
    public var originSequence: UInt64
    public var effectiveAt: Date
    public var receivedAt: Date
    public var completedAt: Date?
}

/// A conflict between versions of one record from different nodes.
public struct ConflictRow: Sendable, Codable, Equatable {
    public var id: Int
    public var recordKey: String
    public var winner: String
    public var loser: String
    public var detectedAt: Date
    public var resolvedAt: Date?
    public var resolution: String?
}

extension HubStore {
    /// The position `HubPosition` of `node`.
    public func position(node: String) throws -> HubPosition? {
        try writer.read { try $0.nodeLogFrontier(node).map { HubPosition(acknowledged: $0.size, treeRoot: $0.root.hex) } }
    }

    /// The hub log's tree head.
    public func hubHead() throws -> TreeHead {
        try writer.read { try $0.hubFrontier().head }
    }

    /// Entries after `after` for `node`, at most `limit`; `to` is the last position considered.
    ///
    /// Left out: the node's own effective changes (it holds them already), and new records of
    /// catalog items outside its subscription (``NodeSubscription``). Corrections, revocations
    /// and the other changes to an existing record go to every node: Article 41 wants every copy
    /// fixed, the hub cannot know every copy a node may hold (its subscription may have been
    /// wider before), and a node that never held the record ignores them. Re-assertions, and
    /// every later version of a re-asserted record (`Protocol/merge.md` §4), go to every node,
    /// its origin included: some node may hold a version the hub refused, or have applied a
    /// re-assertion over its own newer version. So does every rights change merged (logged
    /// for every node): its origin settles its pending change by it (`Protocol/rights.md` §4).
    ///
    /// At most `limit` entries are considered and at most `maxBytes` of changes are served (at
    /// least one entry whatever its size); `to` then ends before the first entry left out.
    public func fanOut(node: String, after: UInt64, limit: Int,
                       maxBytes: Int = FanOutBatch.byteBudget) throws -> (entries: [(UInt64, [UInt8])], to: UInt64, head: TreeHead) {
        try writer.read { db in
            let head = try db.hubFrontier().head
            let subscription = try db.subscription(node: node)
            // Stepped through SQLite's API: every node reads every hub-log entry, and GRDB rows
            // boxed each column of each entry.
            let select = try FastStatement(db, """
                SELECT position, node, sequence, reassert, item, operation FROM hub_log WHERE position > ? ORDER BY position LIMIT ?
                """)
            select.bind(Int64(after), Int64(limit))
            var wanted: [(position: UInt64, origin: String, sequence: UInt64)] = []
            var read = 0, last: UInt64 = 0
            // Each origin node's range of sequences, to read its evidence once.
            var ranges: [String: ClosedRange<UInt64>] = [:]
            while try select.next() {
                read += 1
                last = UInt64(select.int(0))
                let origin = select.text(1)
                guard select.int(3) != 0 || (origin != node && (subscription.items == nil || subscription.receives(item: select.text(4), operation: select.text(5)))) else {
                    continue
                }
                let sequence = UInt64(select.int(2))
                wanted.append((last, origin, sequence))
                ranges[origin] = ranges[origin].map { min($0.lowerBound, sequence)...max($0.upperBound, sequence) } ?? sequence...sequence
            }
            let to = read == limit ? last : max(head.size, after)
            var bytes: [String: HeldChanges] = [:]
            for (origin, range) in ranges {
                bytes[origin] = try heldChanges(db, node: origin, from: range.lowerBound, through: range.upperBound)
            }
            var entries: [(UInt64, [UInt8])] = []
            entries.reserveCapacity(wanted.count)
            var total = 0
            for (position, origin, sequence) in wanted {
                guard let change = bytes[origin]?[sequence] else {
                    throw RegistryError(description: "the evidence of \(origin) lacks change \(sequence) of the hub log")
                }
                // A byte budget as well as a count: a thousand large records would not fit one
                // envelope, and the node would ask for the same position forever.
                if !entries.isEmpty, total + change.count > maxBytes { return (entries, position - 1, head) }
                total += change.count
                entries.append((position, change))
            }
            return (entries, to, head)
        }
    }

    /// The node's own changes after `after`, in sequence, at most `limit` and `maxBytes` (at least
    /// one), and the node log head.
    public func nodeChanges(node: String, after: UInt64, limit: Int,
                            maxBytes: Int = FanOutBatch.byteBudget) throws -> (changes: [(UInt64, [UInt8])], head: TreeHead) {
        try writer.read { db in
            guard let head = try db.nodeLogFrontier(node)?.head else { throw RegistryError(description: "no node \(node)") }
            guard head.size > after, limit > 0 else { return ([], head) }
            let through = min(head.size, after + UInt64(limit))
            let held = try heldChanges(db, node: node, from: after + 1, through: through)
            var changes: [(UInt64, [UInt8])] = []
            var total = 0
            for sequence in after + 1...through {
                guard let bytes = held[sequence] else { throw RegistryError(description: "the evidence of \(node) lacks change \(sequence)") }
                if !changes.isEmpty, total + bytes.count > maxBytes { break }
                total += bytes.count
                changes.append((sequence, bytes))
            }
            return (changes, head)
        }
    }

    /// Notes that `node` was served its fan-out through `position` (the most its acknowledgement
    /// may claim), on a request saying it has applied through `applied`: a node restored from an
    /// older backup says less than it once acknowledged, and its lag counts from there.
    public func noteServed(node: String, through position: UInt64, applied: UInt64) async throws {
        try await bookkeeping.submit { db in
            try db.cachedStatement(sql: "UPDATE node SET fanout_served = MAX(fanout_served, ?), fanout_reported = ? WHERE id = ?")
                .execute(arguments: [Int64(position), Int64(applied), node])
        }
    }

    /// Records that `node` applied its fan-out through `position`, and closes the Article 41
    /// "every copy fixed" window of each correction every other active node has now applied.
    ///
    /// An acknowledgement beyond what the hub served the node (``noteServed(node:through:)``)
    /// is refused with ``AcknowledgementError``: it would close windows for copies nobody fixed.
    ///
    /// - Returns: for each change the acknowledgement newly covers (the node's own and
    ///   re-assertions aside), the seconds from the provider's acknowledged write at its origin
    ///   node to this acknowledgement: the whole path, both hops.
    @discardableResult
    public func acknowledgeFanOut(node: String, through position: UInt64, at: Date) async throws -> [Double] {
        let ms = Self.millis(at)
        return try await bookkeeping.submit { db in
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT fanout_served, fanout_ack FROM node WHERE id = ?"),
                                             arguments: [node]) else {
                throw RegistryError(description: "no node \(node)")
            }
            let served: Int64 = row[0], previous: Int64 = row[1]
            guard position <= UInt64(served) else { throw AcknowledgementError(node: node, through: position, served: UInt64(served)) }
            let latencies = try Int64.fetchAll(try db.cachedStatement(sql: """
                SELECT accepted_at FROM hub_log WHERE position > ? AND position <= ? AND node != ? AND reassert != 1 AND accepted_at > 0
                """), arguments: [previous, Int64(position), node]).map { max(0, Double(ms - $0) / 1000) }
            try db.cachedStatement(sql: """
                UPDATE node SET fanout_ack = MAX(fanout_ack, ?1), fanout_reported = ?1, fanout_ack_at = ?2, last_seen = ?2 WHERE id = ?3
                """).execute(arguments: [Int64(position), ms, node])
            if position > UInt64(previous) { try Self.closeWindows(db, at: ms, positions: previous + 1...Int64(position)) }
            return latencies
        }
    }

    /// Closes the windows of Articles 41, 39 and 40 at hub-log positions `positions` that every
    /// node they wait for has now acknowledged: those an acknowledgement newly covers, or every
    /// position when a node stops counting (revoked).
    static func closeWindows(_ db: Database, at ms: Int64, positions: ClosedRange<Int64>) throws {
        for sql in [correctionCompletion] + windowCompletions {
            try db.cachedStatement(sql: sql).execute(arguments: [ms, positions.lowerBound, positions.upperBound])
        }
    }

    /// Closes the Article 41 window of every correction at positions `?2`…`?3` that each active
    /// node but its origin has acknowledged, through the index of open corrections: an
    /// acknowledgement reads the open corrections it newly covers, not every one open (a node
    /// offline keeps every correction since open).
    static let correctionCompletion = """
        UPDATE correction SET completed_at = ?1
        WHERE completed_at IS NULL AND hub_position >= ?2 AND hub_position <= ?3 AND hub_position <= COALESCE(
            (SELECT MIN(fanout_ack) FROM node WHERE status = 'active' AND id != correction.origin_node), hub_position)
        """

    /// Every node's lag at `now`.
    ///
    /// Operators' pages and every metrics scrape read this, and a node far behind (a new county
    /// node, one restored from an old backup) may have millions of changes waiting: counting them
    /// all on each read cost the hub a scan of its log per node. The count is kept per node and
    /// moved by the rows between the positions counted before and now (the log is append-only,
    /// so what lies between two positions never changes); the age is read from the first
    /// ``lagAgeWindow`` changes waiting, the oldest in the order the hub merged them.
    public func lags(now: Date) throws -> [NodeLag] {
        try writer.read { db in
            let head = Int64(try db.hubFrontier().head.size)
            return try Row.fetchAll(db, sql: "SELECT * FROM node ORDER BY id").map { row in
                let id: String = row["id"]
                // What the node last said it applied, when that is less than it once acknowledged
                // (restored from an older backup, or reading the log again): the lag it has.
                let ack = min(row["fanout_ack"] as Int64, row["fanout_reported"] as Int64? ?? .max)
                let subscription = NodeSubscription(row["subscription"])
                let count = try pendingCount(db, node: id, subscription: subscription, after: ack, through: head)
                let oldest = try Int64.fetchOne(db, sql: """
                    SELECT MIN(CASE WHEN accepted_at > 0 THEN MIN(accepted_at, received_at) ELSE received_at END) FROM (
                        SELECT accepted_at, received_at FROM hub_log WHERE position > ? AND node != ? AND \(NodeSubscription.receivesSQL)
                        ORDER BY position LIMIT ?)
                    """, arguments: [ack, id] + subscription.receivesArguments + [Self.lagAgeWindow])
                return NodeLag(id: id, name: row["name"], status: row["status"], acknowledged: UInt64(row["log_size"] as Int64),
                               pushes: row["pushes"], lastSeen: (row["last_seen"] as Int64?).map(Self.date),
                               fanOutApplied: UInt64(ack), lagChanges: count,
                               lagSeconds: count > 0 ? oldest.map { max(0, now.timeIntervalSince(Self.date($0))) } ?? 0 : 0)
            }
        }
    }

    /// How many of the changes waiting for a node are read for the age of the oldest.
    public static let lagAgeWindow = 10_000

    /// The hub-log changes in `after`…`through` that go to `node`: from the count kept for it,
    /// moved by the rows between, or counted whole when there is none that fits.
    func pendingCount(_ db: Database, node: String, subscription: NodeSubscription, after: Int64, through: Int64) throws -> Int {
        func count(_ from: Int64, _ to: Int64) throws -> Int {
            guard to > from else { return 0 }
            return try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM hub_log WHERE position > ? AND position <= ? AND node != ? AND \(NodeSubscription.receivesSQL)
                """, arguments: [from, to, node] + subscription.receivesArguments) ?? 0
        }
        let kept = pendingCounts.withLock { $0[node] }
        let pending: Int
        if let kept, kept.subscription == subscription.stored, kept.after <= after, kept.through <= through {
            pending = kept.count - (try count(kept.after, min(after, kept.through))) + (try count(max(after, kept.through), through))
        } else {
            pending = try count(after, through)
        }
        pendingCounts.withLock { $0[node] = PendingCount(after: after, through: through, subscription: subscription.stored, count: pending) }
        return pending
    }
    /// Corrections still open, and those received or completed since `since`, oldest first:
    /// what operators' views show, whatever the size of the history (the compliance report reads
    /// any period). A correction whose copies were fixed only now, after a node was away for
    /// longer than the views look back, is listed by its completion: its miss is news now.
    public func corrections(openOrClosedSince since: Date) throws -> [CorrectionRow] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT * FROM correction WHERE completed_at IS NULL
                               UNION SELECT * FROM correction WHERE received_at >= ?1
                               UNION SELECT * FROM correction WHERE completed_at >= ?1)
                ORDER BY hub_position
                """, arguments: [Self.millis(since)]).map(Self.correctionRow)
        }
    }

    static func correctionRow(_ row: Row) -> CorrectionRow {
        CorrectionRow(hubPosition: UInt64(row["hub_position"] as Int64), recordKey: row["record_key"], operation: row["operation"],
                      originNode: row["origin_node"], originSequence: UInt64(row["origin_sequence"] as Int64),
                      effectiveAt: Self.date(row["effective_at"]), receivedAt: Self.date(row["received_at"]),
                      completedAt: (row["completed_at"] as Int64?).map(Self.date))
    }

    /// Corrections received in [from, to) (all when nil), oldest first.
    public func corrections(receivedFrom from: Date? = nil, to: Date? = nil, openOnly: Bool = false) throws -> [CorrectionRow] {
        try writer.read { db in
            var sql = "SELECT * FROM correction WHERE received_at >= ? AND received_at < ?"
            if openOnly { sql += " AND completed_at IS NULL" }
            return try Row.fetchAll(db, sql: sql + " ORDER BY hub_position",
                                    arguments: [from.map(Self.millis) ?? 0, to.map(Self.millis) ?? Int64.max]).map(Self.correctionRow)
        }
    }

    /// Conflicts, unresolved first.
    public func conflicts(limit: Int = 200) throws -> [ConflictRow] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conflict ORDER BY resolved_at IS NOT NULL, id DESC LIMIT ?", arguments: [limit]).map {
                ConflictRow(id: $0["id"], recordKey: $0["record_key"], winner: "\($0["winner_node"] as String)#\($0["winner_sequence"] as Int64)",
                            loser: "\($0["loser_node"] as String)#\($0["loser_sequence"] as Int64)", detectedAt: Self.date($0["detected_at"]),
                            resolvedAt: ($0["resolved_at"] as Int64?).map(Self.date), resolution: $0["resolution"])
            }
        }
    }

    /// Marks a conflict resolved by an operator, with a note. Returns whether an open conflict was resolved.
    @discardableResult
    public func resolveConflict(_ id: Int, resolution: String, at: Date) throws -> Bool {
        try writer.write { db in
            try db.execute(sql: "UPDATE conflict SET resolved_at = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL",
                           arguments: [Self.millis(at), resolution, id])
            guard db.changesCount > 0 else { return false }
            try Self.recordAdmin(db, "conflict-resolve", target: String(id), detail: resolution, at: at)
            return true
        }
    }

    /// Counts for metrics: equivocations, conflicts, hub log size, records (kept, not counted).
    public func counts() throws -> (equivocations: Int, conflicts: Int, openConflicts: Int, hubLog: Int, records: Int) {
        try writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM equivocation") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conflict") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conflict WHERE resolved_at IS NULL") ?? 0,
             Int(try db.hubFrontier().size),
             try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'records'") ?? 0)
        }
    }

    /// The bytes of equivocation evidence kept for `node`.
    public func equivocationBytes(node: String) throws -> Int {
        try writer.read { try Int.fetchOne($0, sql: "SELECT COALESCE(SUM(length(envelope)), 0) FROM equivocation WHERE node = ?", arguments: [node]) ?? 0 }
    }

    /// The records the hub holds under `subjectKey` (Articles 19 and 33).
    public func records(subject subjectKey: String) throws -> [(recordKey: String, role: String, status: String)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.record_key, i.role, r.status
                FROM (SELECT record_id, role FROM subject_index WHERE subject_key = ?1
                      UNION SELECT record_id, role FROM subject_index_recent WHERE subject_key = ?1) i
                JOIN record r ON r.id = i.record_id ORDER BY r.record_key, i.role
                """, arguments: [subjectKey]).map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// The current state of a record: status, version, origin, and the nodes it arrived through.
    public func record(_ key: String) throws -> (status: String, version: Int, origin: String, routes: [String])? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, version, origin_node, routes FROM record WHERE record_key = ?",
                                             arguments: [key]) else { return nil }
            return (row["status"], row["version"], row["origin_node"], (row["routes"] as String).split(separator: ",").map(String.init))
        }
    }

    /// Every version of a record the hub merged, oldest first: where in the hub log, from which
    /// node's change, and what it did.
    public func history(_ key: String) throws -> [(position: UInt64, node: String, sequence: UInt64, operation: String, receivedAt: Date)] {
        try writer.read { db in
            guard let history = try String.fetchOne(db, sql: "SELECT history FROM record WHERE record_key = ?", arguments: [key]) else { return [] }
            return try history.split(separator: ",").compactMap { Int64($0) }.compactMap { position in
                try Row.fetchOne(db, sql: "SELECT node, sequence, operation, received_at FROM hub_log WHERE position = ?", arguments: [position]).map {
                    (UInt64(position), $0["node"], UInt64($0["sequence"] as Int64), $0["operation"], Self.date($0["received_at"]))
                }
            }
        }
    }

    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}
