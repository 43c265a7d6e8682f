public import CreditCore
import CreditStorage
import Foundation
import GRDB
public import SyncProtocol

/// One of this node's rights changes that the hub's fan-out has not brought back yet
/// (`Protocol/rights.md` §4): shown as pending, never as decided.
public struct PendingRights: Sendable, Codable, Equatable {
    public var sequence: UInt64
    public var caseId: String
    public var event: String
}

/// The credit subjects' cases on a record, as a read shows them.
public struct RecordRights: Sendable, Codable, Equatable {
    /// `objection` while an objection is open (Article 39's label).
    public var labels: [String]
    /// `withdrawn` after a granted restoration or a list removal, else `displayed`.
    public var display: String
    /// The cases as the hub decided them.
    public var cases: [RightsCase]
    /// This node's changes the hub has not returned yet.
    public var pending: [PendingRights]
    /// This node's changes the hub refused (a race with another desk, most often): they
    /// changed nothing, and the clerk tells the applicant.
    public var refused: [PendingRights]
}

extension NodeStore {
    /// Logs a rights change (`Protocol/rights.md`) as the node's next change, after checking it in
    /// the same transaction with the rules the hub applies (`RightsRules`) on this node's view:
    /// the cases as the hub decided them, with this node's pending changes applied. `facts`
    /// gives the record's class and display window (from its payload); its home and status are
    /// read here.
    /// - Returns: the case id and the change's sequence, or the rules' refusal.
    public func writeRights(_ event: RightsEvent, key: RecordKey, node: String, credential: String, reason: String, decisionDocument: String,
                            catalogVersion: String, acceptedAt: UInt64, recordClass: RecordClass?, earliestEnd: CivilDate?)
        throws -> Result<(caseId: String, sequence: UInt64), RightsRefusal> {
        defer { logAppended.signal() }
        return try writer.write { db in
            let storageKey = key.storageKey
            var frontier = try db.frontier(.logFrontier)
            let sequence = frontier.size + 1
            let change = Change(node: node, sequence: sequence, key: key, operation: event.kind.operation, credential: credential,
                                reason: reason, decisionDocument: decisionDocument, effectiveAt: acceptedAt, acceptedAt: acceptedAt,
                                catalogVersion: catalogVersion, payload: event.payload)
            let held = try Row.fetchOne(db, sql: "SELECT status, origin_node, version FROM record WHERE record_key = ?", arguments: [storageKey])
            let facts = try held.map {
                // The objections this node knew of before the record's current version.
                let changedSince = Set(try String.fetchAll(db, sql: """
                    SELECT id FROM rights_case WHERE record_key = ?1 AND record_version < ?2
                    UNION SELECT case_id FROM rights_pending WHERE record_key = ?1 AND event = 'filed' AND record_version < ?2
                    """, arguments: [storageKey, $0[2] as Int64]))
                return RightsRecordFacts(home: $0[1], revoked: ($0[0] as String) == "revoked", recordClass: recordClass, earliestEnd: earliestEnd,
                                         changedSince: changedSince)
            }
            let today = ChinaTime.date(of: Date(timeIntervalSince1970: Double(acceptedAt) / 1000))
            if let refusal = RightsRules.check(event, of: change, record: facts, cases: try rightsView(db, recordKey: storageKey), today: today) {
                return .failure(refusal)
            }
            let encoded = change.encoded
            let leaf = MerkleHash.leaf(encoded)
            frontier.append(leafHash: leaf)
            try db.execute(sql: "INSERT INTO log_entry(sequence, change, leaf_hash, accepted_at) VALUES (?, ?, ?, ?)",
                           arguments: [Int64(sequence), Data(StoredPayload.compress(encoded)), leaf.data, Int64(acceptedAt)])
            let caseId = event.caseId ?? RightsEvent.caseId(opening: change)
            try db.execute(sql: "INSERT INTO rights_pending(sequence, record_key, case_id, event, record_version) VALUES (?, ?, ?, ?, ?)",
                           arguments: [Int64(sequence), storageKey, caseId, event.kind.rawValue, held?[2] as Int64?])
            try db.setFrontier(.logFrontier, frontier)
            return .success((caseId, sequence))
        }
    }

    /// The cases on a record as the hub decided them.
    func rightsCases(_ db: Database, recordKey: String) throws -> [RightsCase] {
        try String.fetchAll(db, sql: "SELECT body FROM rights_case WHERE record_key = ? ORDER BY id", arguments: [recordKey]).map(RightsCase.init(stored:))
    }

    /// The cases on a record as this node sees them: the hub's, with this node's pending changes applied in order.
    func rightsView(_ db: Database, recordKey: String) throws -> [RightsCase] {
        var cases = try rightsCases(db, recordKey: recordKey)
        let pending = try Row.fetchAll(db, sql: """
            SELECT p.sequence, l.change FROM rights_pending p JOIN log_entry l ON l.sequence = p.sequence WHERE p.record_key = ? ORDER BY p.sequence
            """, arguments: [recordKey])
        for row in pending {
            let (change, event) = try pendingRightsChange(sequence: row[0], stored: row[1])
            if event.kind.opensCase {
                cases.append(RightsCase(opening: event, of: change, at: change.acceptedAt))
            } else if let i = cases.firstIndex(where: { $0.id == event.caseId }) {
                cases[i].apply(event, of: change, at: change.acceptedAt)
            }
        }
        return cases
    }

    /// A pending rights change of this node, read back from its log entry.
    ///
    /// An entry that does not read back is an error naming it, as `node verify` names it, never
    /// a step silently left out: the view it would leave feeds the rules that accept the next
    /// step, and without a pending objection a second one on the same record would pass them.
    /// - Throws: ``StoredPayloadError/damaged(_:)`` naming the log entry.
    func pendingRightsChange(sequence: Int64, stored: Data) throws -> (Change, RightsEvent) {
        try Self.loggedChange(sequence: sequence, stored: stored, "a pending rights change of this node") { change in
            (change, try RightsEvent(change, identifiers: nil))
        }
    }

    /// The change a log entry holds, as `read` takes it; an entry that does not read back (or
    /// that `read` refuses) is ``StoredPayloadError/damaged(_:)`` naming the entry as `what`.
    static func loggedChange<T>(sequence: Int64, stored: Data, _ what: String, _ read: (Change) throws -> T) throws -> T {
        do {
            return try read(try Change(decoding: StoredPayload.decompress(stored)))
        } catch StoredPayloadError.damaged(let reason) {
            throw StoredPayloadError.damaged("log entry \(sequence), \(what): \(reason)")
        } catch {
            throw StoredPayloadError.damaged("log entry \(sequence), \(what): \(error)")
        }
    }

    /// Applies one rights entry of the fan-out: opens or moves on its case, once (an entry seen
    /// before changes nothing), and clears it from this node's pending changes when it is one.
    /// - Returns: whether the case changed.
    func applyRights(_ db: Database, _ w: RemoteWrite) throws -> Bool {
        guard let event = w.rights else { return false }
        let change = w.change
        if let leaf = w.leaf {
            // This node's own change, back from the hub: no longer pending, and not refused (a
            // hub that refused it and was then restored from an older backup may take it when
            // the node sends it again).
            for table in ["rights_pending", "rights_refused"] {
                try db.execute(sql: """
                    DELETE FROM \(table) WHERE sequence = ?1 AND EXISTS (SELECT 1 FROM log_entry WHERE sequence = ?1 AND leaf_hash = ?2)
                    """, arguments: [Int64(change.sequence), leaf.data])
            }
        }
        let storageKey = change.key.storageKey
        if event.kind.opensCase {
            let opened = RightsCase(opening: event, of: change, at: change.acceptedAt)
            try db.execute(sql: """
                INSERT OR IGNORE INTO rights_case(id, record_key, body, record_version) VALUES (?1, ?2, ?3, (SELECT version FROM record WHERE record_key = ?2))
                """, arguments: [opened.id, storageKey, try opened.stored])
            return db.changesCount > 0
        }
        guard let id = event.caseId,
              let body = try String.fetchOne(db, sql: "SELECT body FROM rights_case WHERE id = ?", arguments: [id]) else { return false }
        var moved = try RightsCase(stored: body)
        guard !moved.steps.contains(where: { $0.node == change.node && $0.sequence == change.sequence }) else { return false }
        moved.apply(event, of: change, at: change.acceptedAt)
        try db.execute(sql: "UPDATE rights_case SET body = ? WHERE id = ?", arguments: [try moved.stored, id])
        return true
    }

    /// Settles pending rights changes once a batch is applied. A change the hub holds — at or
    /// below `hubHolds`, its position for this node's log, read before the batch was asked for —
    /// was merged or refused before the batch's hub head (`hubSize`) was taken. If the fan-out
    /// is applied through that head and the change is still pending, it did not come back: the
    /// hub refused it (another desk was first), and it moves to `rights_refused`, where the
    /// desk sees it. Without the hub's word nothing is settled: a hub restored from an older
    /// backup may have lost a change it receipted, which the pusher then sends again.
    func settlePendingRights(_ db: Database, hubHolds: UInt64?, hubSize: UInt64, applied: UInt64, at: UInt64) throws {
        guard let hubHolds, applied >= hubSize else { return }
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO rights_refused(sequence, record_key, case_id, event, detected_at)
            SELECT sequence, record_key, case_id, event, ? FROM rights_pending WHERE sequence <= ?
            """).execute(arguments: [Int64(at), Int64(hubHolds)])
        try db.cachedStatement(sql: "DELETE FROM rights_pending WHERE sequence <= ?").execute(arguments: [Int64(hubHolds)])
    }

    /// Every case this node holds as the hub decided it, its pending changes, and the sequences
    /// of its rights changes the hub refused: what the simulator compares with the hub.
    public func rightsState() throws -> (cases: [RightsCase], pending: Int, refused: [UInt64]) {
        try writer.read { db in
            (try String.fetchAll(db, sql: "SELECT body FROM rights_case ORDER BY id").map(RightsCase.init(stored:)),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rights_pending") ?? 0,
             try Int64.fetchAll(db, sql: "SELECT sequence FROM rights_refused ORDER BY sequence").map(UInt64.init))
        }
    }

    /// The labels, display and cases of a record (`Protocol/rights.md` §4).
    public func rights(recordKey: String) throws -> RecordRights {
        try writer.read { db in try rights(db, recordKey: recordKey) }
    }

    func rights(_ db: Database, recordKey: String) throws -> RecordRights {
        let cases = try rightsCases(db, recordKey: recordKey)
        let pending = try Row.fetchAll(db, sql: "SELECT sequence, case_id, event FROM rights_pending WHERE record_key = ? ORDER BY sequence",
                                       arguments: [recordKey]).map {
            PendingRights(sequence: UInt64($0[0] as Int64), caseId: $0[1], event: $0[2])
        }
        let refused = try Row.fetchAll(db, sql: "SELECT sequence, case_id, event FROM rights_refused WHERE record_key = ? ORDER BY sequence",
                                       arguments: [recordKey]).map {
            PendingRights(sequence: UInt64($0[0] as Int64), caseId: $0[1], event: $0[2])
        }
        return RecordRights(labels: cases.contains(where: \.labels) ? ["objection"] : [],
                            display: cases.contains(where: \.withdrawsDisplay) ? "withdrawn" : "displayed", cases: cases, pending: pending,
                            refused: refused)
    }

    /// A case by id, as the hub decided it, or as this node's pending change opens it when the
    /// hub has not returned it yet; `nil` when this node has not heard of it. `pending` is set
    /// while any change of this node to the case is on its way: the case is shown without it
    /// (`Protocol/rights.md` §4: an event the hub has not returned is not shown as decided).
    public func rightsCase(_ id: String) throws -> (rightsCase: RightsCase, recordKey: String, pending: Bool)? {
        try writer.read { db in
            let pending = try Bool.fetchOne(db, sql: "SELECT 1 FROM rights_pending WHERE case_id = ?", arguments: [id]) ?? false
            if let recordKey = try String.fetchOne(db, sql: "SELECT record_key FROM rights_case WHERE id = ?", arguments: [id]),
               let decided = try rightsCases(db, recordKey: recordKey).first(where: { $0.id == id }) {
                return (decided, recordKey, pending)
            }
            // Not at the hub yet: the case as its opening change makes it, and no step after it.
            let changes = try Row.fetchAll(db, sql: """
                SELECT p.sequence, l.change FROM rights_pending p JOIN log_entry l ON l.sequence = p.sequence WHERE p.case_id = ? ORDER BY p.sequence
                """, arguments: [id])
            for row in changes {
                let (change, event) = try pendingRightsChange(sequence: row[0], stored: row[1])
                guard event.kind.opensCase else { continue }
                return (RightsCase(opening: event, of: change, at: change.acceptedAt), change.key.storageKey, true)
            }
            return nil
        }
    }

}

extension Database {
    /// Makes the refusals of this node's rights changes after sequence `after` void, pending
    /// them again: the hub that refused them was restored from an older backup and holds this
    /// node's log only through `after` (``NodeStore/resetPush(to:)``). They are pushed again and
    /// decided anew, and settled as any pending change is
    /// (``NodeStore/settlePendingRights(_:hubHolds:hubSize:applied:at:)``).
    ///
    /// A change the node applied from the fan-out stays applied: the restored hub merges it
    /// again where the node read it (its log agrees with the hub head the node pinned, which
    /// covers every position the node applied), or its log differs there, and the node reads
    /// that log from the start (``restartFanOut()``), pending every change of its own again.
    /// Pending one the node has read past would leave it pending until the hub's position
    /// settled it as refused, though the hub merged it.
    func reopenRefusedRights(after: UInt64) throws {
        try execute(sql: """
            INSERT OR IGNORE INTO rights_pending(sequence, record_key, case_id, event, record_version)
            SELECT sequence, record_key, case_id, event, COALESCE((SELECT record_version FROM rights_case WHERE id = rights_refused.case_id),
                                                                  (SELECT version FROM record WHERE record_key = rights_refused.record_key))
            FROM rights_refused WHERE sequence > ?
            """, arguments: [Int64(after)])
        try execute(sql: "DELETE FROM rights_refused WHERE sequence > ?", arguments: [Int64(after)])
    }

    /// Makes this node's rights changes of sequences `after + 1 … through` pending again (and
    /// not refused), to be decided by the fan-out the node reads next: the hub log again from its
    /// start (``restartFanOut()``), or from a restored backup's position for the changes taken
    /// back from the hub (``NodeStore/appendRecovered(_:)``). One that fan-out carries comes
    /// back with it, one it does not moves to `rights_refused` once the hub holds it, as any
    /// pending change does (``NodeStore/settlePendingRights(_:hubHolds:hubSize:applied:at:)``).
    /// It reads those entries of the node's log: once per conflict or restore.
    func pendRightsChanges(after: UInt64, through: UInt64) throws {
        try execute(sql: "DELETE FROM rights_refused WHERE sequence > ?", arguments: [Int64(after)])
        let entries = try Row.fetchCursor(self, sql: """
            SELECT sequence, change FROM log_entry WHERE sequence > ? AND sequence <= ? AND sequence NOT IN (SELECT sequence FROM rights_pending)
            """, arguments: [Int64(after), Int64(through)])
        var pending: [(sequence: Int64, change: Change, event: RightsEvent)] = []
        while let row = try entries.next() {
            let sequence: Int64 = row[0]
            let read = try NodeStore.loggedChange(sequence: sequence, stored: row[1], "a change of this node the hub no longer holds") { change in
                change.operation.isRights ? (change, try RightsEvent(change, identifiers: nil)) : nil
            }
            if let read { pending.append((sequence, read.0, read.1)) }
        }
        for p in pending {
            let storageKey = p.change.key.storageKey
            // The record's version the change was written against, as its case kept it, else the current one.
            let caseId = p.event.caseId ?? RightsEvent.caseId(opening: p.change)
            try execute(sql: """
                INSERT INTO rights_pending(sequence, record_key, case_id, event, record_version)
                VALUES (?1, ?2, ?3, ?4, COALESCE((SELECT record_version FROM rights_case WHERE id = ?3), (SELECT version FROM record WHERE record_key = ?2)))
                """, arguments: [p.sequence, storageKey, caseId, p.event.kind.rawValue])
        }
    }

    /// Whether a pending rights change of this node is within what the hub acknowledged, as the
    /// pusher last knew it: the receiver then asks the hub's position before its next batch, so
    /// that the batch can settle it (``NodeStore/settlePendingRights(_:hubHolds:hubSize:applied:at:)``).
    func rightsAwaitingTheHub() throws -> Bool {
        try Bool.fetchOne(try cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM rights_pending WHERE sequence <= ?)"),
                          arguments: [Int64(try metaInt(.acknowledged))]) ?? false
    }
}
