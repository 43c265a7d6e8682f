import CreditStorage
import Foundation
import GRDB
public import SyncProtocol

extension NodeStore {
    /// Whether the store was restored from a backup and has not yet caught up with the hub.
    public func isRestorePending() throws -> Bool {
        try writer.read { try $0.metaInt(.restorePending) == 1 }
    }

    /// Marks the store as restored (by `creditsync restore`) or caught up.
    public func setRestorePending(_ pending: Bool) throws {
        try writer.write { try $0.setMetaInt(.restorePending, pending ? 1 : 0) }
    }

    /// Appends this node's own changes recovered from the hub, exactly as they were first
    /// logged, with their history and current state, after checking that they continue the log.
    /// - Throws: ``WireError/inconsistent(_:)`` when a change does not continue the log.
    public func appendRecovered(_ entries: [(change: Change, bytes: [UInt8], prepared: PreparedWrite)]) throws {
        try writer.write { db in
            var frontier = try db.frontier(.logFrontier)
            let recoveredAfter = frontier.size
            for e in entries {
                guard e.change.sequence == frontier.size + 1 else {
                    throw WireError.inconsistent("recovered change \(e.change.sequence) does not follow the log's \(frontier.size)")
                }
                let leaf = MerkleHash.leaf(e.bytes)
                frontier.append(leafHash: leaf)
                let key = e.change.key.storageKey
                try db.execute(sql: "INSERT INTO log_entry(sequence, change, leaf_hash, accepted_at) VALUES (?, ?, ?, ?)",
                               arguments: [Int64(e.change.sequence), Data(StoredPayload.compress(e.bytes)), leaf.data, Int64(e.change.acceptedAt)])
                // A rights change is no version of its record; its case comes back with the fan-out,
                // which brings every rights change to every node, its origin included. It is
                // pending until then, as when it was written, so that one the hub refused is
                // listed as refused (the fan-out from the backup's position passes where it
                // would have been merged: it was written after the backup).
                if e.change.operation.isRights { continue }
                let version = ((try Int.fetchOne(db, sql: "SELECT version FROM record WHERE record_key = ?", arguments: [key])) ?? 0) + 1
                try fileOwnVersion(db, e.change, e.prepared, version: version, at: e.change.acceptedAt)
            }
            try db.setFrontier(.logFrontier, frontier)
            try db.pendRightsChanges(after: recoveredAfter, through: frontier.size)
        }
    }

    /// Starts fan-out again from the beginning (after the hub's log was found shorter than one it
    /// signed before). Re-applying is harmless: changes are matched by origin node and sequence.
    /// `prepare` files a change of this node's own log (``restoreOwnVersions(_:at:prepare:)``).
    public func resetFanOut(at: UInt64, prepare: (Change) -> PreparedWrite) throws {
        try writer.write { db in
            try db.restartFanOut()
            try restoreOwnVersions(db, at: at, prepare: prepare)
        }
    }

    /// Keeps the evidence of a hub head that does not extend the pinned one, and starts fan-out
    /// again from the beginning, in one transaction.
    public func recordHubHistoryConflict(pinned: TreeHead, seen: TreeHead, proof: [Hash32], reason: String, at: Int64,
                                         prepare: (Change) -> PreparedWrite) throws {
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO hub_history_conflict(detected_at, pinned_size, pinned_root, seen_size, seen_root, proof, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [at, Int64(pinned.size), pinned.root.data, Int64(seen.size), seen.root.data,
                                 Data(proof.flatMap(\.bytes)), reason])
            try db.restartFanOut()
            try restoreOwnVersions(db, at: UInt64(at), prepare: prepare)
        }
    }

    /// Brings each record this node wrote back to its own last write, before it reads the hub
    /// log again from its start.
    ///
    /// The hub's fan-out leaves out a node's own unmarked changes (merge.md §4): the node holds
    /// them. What the old log did to its records — a re-assertion of an older version, or its own
    /// change sent back after one — stays unless the new log says otherwise, and the new log
    /// (a hub restored from an older backup) may lack the re-assertion: it then sends the node's
    /// later versions back to no one, and the node would keep the older one for good. From its
    /// own last write, the replay brings each record to the new log's decision: a record no other
    /// node's entry or re-assertion touches ends on the home's last write, as at the hub.
    /// Only the records whose current version is not their own last write are read: one query
    /// over the history, once per conflict, beside a replay of the whole hub log.
    func restoreOwnVersions(_ db: Database, at: UInt64, prepare: (Change) -> PreparedWrite) throws {
        guard let first = try Row.fetchOne(db, sql: "SELECT sequence, change FROM log_entry ORDER BY sequence LIMIT 1") else { return }
        let node = try NodeStore.loggedChange(sequence: first[0], stored: first[1], "this node's first change") { $0.node }
        // This node's own writes are its history rows without a hub position.
        let stale = try Row.fetchAll(db, sql: """
            SELECT own.sequence, r.version, r.status, r.content_hash, r.subjects, l.change
            FROM (SELECT record_key, MAX(origin_sequence) AS sequence FROM record_version
                  WHERE origin_node = ?1 AND hub_position IS NULL GROUP BY record_key) own
            JOIN record r ON r.record_key = own.record_key
            JOIN record_version v ON v.record_key = r.record_key AND v.version = r.version
            JOIN log_entry l ON l.sequence = own.sequence
            WHERE NOT (v.origin_node = ?1 AND v.origin_sequence = own.sequence)
            ORDER BY own.sequence
            """, arguments: [node])
        for row in stale {
            let (sequence, version, status, hash, subjects): (Int64, Int, String, Data, String) = (row[0], row[1], row[2], row[3], row[4])
            let change = try NodeStore.loggedChange(sequence: sequence, stored: row[5], "a change of this node's own") { $0 }
            let p = prepare(change)
            if change.operation == .revoke ? status == "revoked" : status == "active" && hash == p.contentHash { continue }
            try fileOwnVersion(db, change, p, version: version + 1, at: at, previousSubjects: subjects)
        }
    }

    /// Files a change of this node's own log as its record's version `version` and current state,
    /// as ``write(_:node:credential:catalogVersion:acceptedAt:)`` files it: the record is in the
    /// log entry, not again in the history row.
    private func fileOwnVersion(_ db: Database, _ change: Change, _ p: PreparedWrite, version: Int, at: UInt64,
                                previousSubjects: String? = nil) throws {
        let key = change.key.storageKey
        try db.execute(sql: """
            INSERT INTO record_version(record_key, version, operation, origin_node, origin_sequence, hub_position, credential,
                reason, decision_document, effective_at, accepted_at, catalog_version, content_hash, payload)
            VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [key, version, change.operation.name, change.node, Int64(change.sequence), change.credential,
                             change.reason, change.decisionDocument, Int64(change.effectiveAt), Int64(change.acceptedAt),
                             change.catalogVersion, p.contentHash, Data()])
        try upsertCurrent(db, p, storageKey: key, version: version, hash: p.contentHash, origin: change.node, at: at,
                          previousSubjects: previousSubjects)
    }

    /// The number of hub history conflicts this node has recorded.
    public func hubHistoryConflicts() throws -> Int {
        try writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM hub_history_conflict") ?? 0 }
    }

    /// Copies the store with SQLite's online backup API (consistent while the daemon runs).
    public func backup(to path: String) throws {
        let destination = try DatabaseQueue(path: path)
        try writer.backup(to: destination)
    }
}

extension Database {
    /// Fan-out from the beginning, with no hub head pinned: after a hub history conflict or a hub
    /// log found shorter.
    func restartFanOut() throws {
        // This node's own rights changes are decided anew by the log read again: pending, before
        // their cases (which say what they were written against) go.
        try pendRightsChanges(after: 0, through: try frontier(.logFrontier).size)
        try setMetaInt(.fanOutApplied, 0)
        // The cases are the hub's decisions as its log carries them: rebuilt from the new log as
        // the replay passes them, as the records are. A hub restored from an older backup may
        // have refused a change this time that it took before; a case kept from the old log
        // would stay, with no entry ever to remove it.
        try execute(sql: "DELETE FROM rights_case")
        try execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [MetaKey.hubHead.rawValue])
    }
}
