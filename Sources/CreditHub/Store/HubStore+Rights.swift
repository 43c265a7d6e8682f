import CreditCore
public import Foundation
import GRDB
public import SyncProtocol
public import SyncTransport

/// A case as the hub holds it: the case, and when the windows that wait for every node were met.
public struct RightsCaseRow: Sendable, Codable, Equatable {
    public var rightsCase: RightsCase
    /// When the hub received the opening change.
    public var receivedAt: Date
    /// When every active node had applied the objection label (`objection-label`).
    public var labelCompletedAt: Date?
    /// When every active node had applied the granted restoration (`restoration`).
    public var grantCompletedAt: Date?
    /// The hub-log positions of the entries those two windows wait for every active node to apply.
    public var labelPosition: UInt64? = nil
    public var grantPosition: UInt64? = nil
}

extension HubStore {
    /// Merges a change of operation 4–7 by `Protocol/rights.md` §3: the rules decide on the record
    /// and its cases as the hub holds them; an effective change moves its case on and is logged
    /// for every node, its origin included. It is never a new version of the record, and a
    /// refusal re-asserts nothing (the record's content did not move).
    func mergeRights(_ db: Database, _ entry: PreparedSet.Entry, in set: PreparedSet, _ statements: MergeStatements,
                     hubFrontier: inout MerkleFrontier, at: Int64) throws -> MergeEffect {
        let change = entry.change, key = entry.recordKey
        func refused(_ refusal: ChangeRefusal) throws -> MergeEffect {
            try refuse(db, refusal, statements, at: at)
            return .refused(refusal)
        }
        if let invalid = entry.refusal { return try refused(invalid) }
        guard let event = entry.rights else {
            return try refused(ChangeRefusal(change, code: "invalid-rights", field: "payload", message: "the rights document was not read"))
        }
        // The event's instant: when the node accepted it, but never after the hub received it,
        // nor before the record was made (its first version's acceptedAt at its home): a node
        // cannot date an objection before the record existed and put the windows in breach at once.
        var instant = min(Int64(change.acceptedAt), at)
        if let made = try Row.fetchOne(db, sql: "SELECT l.accepted_at, l.received_at FROM record r JOIN hub_log l ON l.position = r.id WHERE r.record_key = ?",
                                       arguments: [key]) {
            let accepted: Int64 = made[0], received: Int64 = made[1]
            instant = max(instant, accepted > 0 ? min(accepted, received) : received)
        }
        let today = ChinaTime.date(of: Self.date(instant))
        var facts: RightsRecordFacts?
        if let row = try Row.fetchOne(db, sql: "SELECT status, origin_node, origin_sequence, hub_position FROM record WHERE record_key = ?",
                                      arguments: [key]) {
            let home: String = row[1], revoked = (row[0] as String) == "revoked"
            // The objections filed before the record's current version was merged.
            let changedSince = Set(try String.fetchAll(db, sql: "SELECT id FROM rights_case WHERE record_key = ? AND label_position < ?",
                                                       arguments: [key, row[3] as Int64]))
            facts = RightsRecordFacts(home: home, revoked: revoked, recordClass: nil, earliestEnd: nil, changedSince: changedSince)
            if event.kind == .applied || event.kind == .removed, !revoked, let validator = set.validator {
                let sequence = UInt64(row[2] as Int64)
                let inSet = home == set.set.node ? set.entries.first { $0.change.sequence == sequence }?.bytes : nil
                if let bytes = try inSet ?? heldChanges(db, node: home, from: sequence, through: sequence)[sequence],
                   let current = try? Change(decoding: bytes) {
                    facts = validator.rightsFacts(payload: current.payload, home: home, revoked: revoked, today: today)
                    facts?.changedSince = changedSince
                }
            }
        }
        let cases = try Self.rightsCases(db, recordKey: key)
        if let refusal = RightsRules.check(event, of: change, record: facts, cases: cases, today: today) {
            return try refused(ChangeRefusal(change, code: refusal.code, field: refusal.field, message: refusal.message))
        }
        let position = Int64(hubFrontier.size) + 1
        try log(entry, position: position, statements, hubFrontier: &hubFrontier, at: at, kind: .toEveryNode)
        if event.kind.opensCase {
            let opened = RightsCase(opening: event, of: change, at: UInt64(instant))
            try db.execute(sql: """
                INSERT INTO rights_case(id, record_key, kind, closed, opened_at, received_at, body, label_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [opened.id, key, opened.kind.rawValue, opened.state.isClosed, instant, at, try opened.stored,
                                 event.kind == .filed ? position : nil])
        } else if var moved = cases.first(where: { $0.id == event.caseId }) {
            moved.apply(event, of: change, at: UInt64(instant))
            try db.execute(sql: """
                UPDATE rights_case SET body = ?, closed = ?, grant_position = COALESCE(grant_position, ?) WHERE id = ?
                """, arguments: [try moved.stored, moved.state.isClosed, event.kind == .granted ? position : nil, moved.id])
        }
        return .effective
    }


    static func rightsCases(_ db: Database, recordKey: String) throws -> [RightsCase] {
        try String.fetchAll(db, sql: "SELECT body FROM rights_case WHERE record_key = ? ORDER BY opened_at, id", arguments: [recordKey])
            .map(RightsCase.init(stored:))
    }

    static func rightsCaseRow(_ row: Row) throws -> RightsCaseRow {
        RightsCaseRow(rightsCase: try RightsCase(stored: row["body"]), receivedAt: date(row["received_at"]),
                      labelCompletedAt: (row["label_completed_at"] as Int64?).map(date),
                      grantCompletedAt: (row["grant_completed_at"] as Int64?).map(date),
                      labelPosition: (row["label_position"] as Int64?).map(UInt64.init),
                      grantPosition: (row["grant_position"] as Int64?).map(UInt64.init))
    }

    /// Closes the windows that wait for every active node (`objection-label`, a granted
    /// `restoration`) once the slowest active node has applied their entry. Runs in the
    /// transaction of a fan-out acknowledgement.
    /// Closes the objection-label and granted-restoration windows at hub-log positions `?2`…`?3`
    /// that every active node has acknowledged. Run with every acknowledgement, over the
    /// positions it newly covers (no other window can have closed by it): each reads those
    /// windows still waiting through their partial indexes, not every case the hub ever had.
    static let windowCompletions = ["label", "grant"].map { column in
        """
        UPDATE rights_case SET \(column)_completed_at = ?1
        WHERE \(column)_completed_at IS NULL AND \(column)_position IS NOT NULL
            AND \(column)_position >= ?2 AND \(column)_position <= ?3
            AND \(column)_position <= COALESCE((SELECT MIN(fanout_ack) FROM node WHERE status = 'active'), \(column)_position)
        """
    }

    /// Cases still open or waiting for a node, and those received since `since` or whose label or
    /// granted restoration reached every node since then: what operators' views show, at a cost
    /// that does not grow with the history.
    public func rightsCases(openOrClosedSince since: Date) throws -> [RightsCaseRow] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM rights_case WHERE closed = 0
                    OR (label_position IS NOT NULL AND label_completed_at IS NULL)
                    OR (grant_position IS NOT NULL AND grant_completed_at IS NULL)
                UNION SELECT * FROM rights_case WHERE closed IN (0, 1) AND received_at >= ?1
                UNION SELECT * FROM rights_case WHERE label_completed_at >= ?1
                UNION SELECT * FROM rights_case WHERE grant_completed_at >= ?1 ORDER BY received_at, id
                """, arguments: [Self.millis(since)]).map(Self.rightsCaseRow)
        }
    }

    /// Cases received in [from, to) (all when nil), oldest first: the compliance report's.
    public func rightsCases(receivedFrom from: Date?, to: Date?) throws -> [RightsCaseRow] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rights_case WHERE received_at >= ? AND received_at < ? ORDER BY received_at, id",
                             arguments: [from.map(Self.millis) ?? 0, to.map(Self.millis) ?? Int64.max]).map(Self.rightsCaseRow)
        }
    }

    /// Every record filed under `subjectKey` (as the subject or an Article 33 person), with its
    /// status, current content hash and cases: what ``SubjectAttestation`` signs.
    public func subjectAttestationEntries(_ subjectKey: String) throws -> [SubjectAttestation.Entry] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.record_key, i.role, r.status, r.version, r.content_hash
                FROM (SELECT record_id, role FROM subject_index WHERE subject_key = ?1
                      UNION SELECT record_id, role FROM subject_index_recent WHERE subject_key = ?1) i
                JOIN record r ON r.id = i.record_id ORDER BY r.record_key, i.role
                """, arguments: [subjectKey]).map { row in
                let key: String = row[0], status: String = row[2]
                let cases = try Self.rightsCases(db, recordKey: key).map { "\($0.id):\($0.state.rawValue)" }
                return SubjectAttestation.Entry(record: key, role: row[1], status: status, version: row[3],
                                                contentHash: status == "revoked" ? nil : Array(row[4] as Data).hex,
                                                cases: cases)
            }
        }
    }

    /// One case, or `nil`.
    public func rightsCase(_ id: String) throws -> RightsCaseRow? {
        try writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM rights_case WHERE id = ?", arguments: [id]).map(Self.rightsCaseRow) }
    }
}
