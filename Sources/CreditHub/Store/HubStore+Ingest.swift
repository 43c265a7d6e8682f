import CreditCore
import CreditStorage
public import Foundation
import GRDB
public import SyncProtocol
import SyncTransport

/// The outcome of offering a verified change set to the store.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored and merged (or already held): the signed receipt to send back.
    case receipt([UInt8], newlyMerged: Int)
    /// The set does not continue the node's log where the hub holds it.
    case gap(expected: UInt64)
    /// A different set for a range the hub already acknowledged: kept as evidence, refused.
    case equivocation
    /// The tree heads do not follow from the node's log.
    case inconsistent(String)
}

/// What the merge of one change did.
enum MergeEffect: String {
    case effective
    case duplicate
    case superseded
}

extension HubStore {
    /// Offers a prepared change set whose signature has been verified: continuity and tree heads
    /// are checked against the node's log, the raw envelope is stored as evidence, every change
    /// is merged, and the receipt is signed and stored — all in one transaction, so the receipt
    /// only leaves after everything it acknowledges is on disk.
    ///
    /// Sets that arrive while the writer is busy are merged together in the next transaction,
    /// each in its own savepoint (``GroupCommit``): one commit and one fsync for all of them.
    ///
    /// A set that continues the node's log is first appended to the ``EvidenceLog`` and synced,
    /// outside the writer; the transaction then records where. Whether it continues is judged
    /// from the positions this store last committed (kept in memory, not read from the database:
    /// a read here would wait for a reader connection while holding a thread). The transaction
    /// decides: a set it accepts whose bytes were not appended (the node's log moved on
    /// meanwhile) is appended then and offered again; bytes appended for a set it does not accept
    /// stay in the file unreferenced.
    public func ingest(_ prepared: PreparedSet, hub: String, key: SigningKey, receivedAt: Date) async throws -> IngestOutcome {
        let set = prepared.set
        let held = acknowledged.withLock { $0[set.node] ?? 0 }
        var evidence = set.first == held + 1 ? try await evidenceLog.append(prepared.envelope) : nil
        while true {
            let stored = evidence
            let outcome = try await groupCommit.submit { db in
                try self.ingest(db, prepared, evidence: stored, hub: hub, key: key, at: Self.millis(receivedAt))
            }
            guard let outcome else {
                evidence = try await evidenceLog.append(prepared.envelope)
                continue
            }
            if case let .receipt(_, merged) = outcome {
                acknowledged.withLock { $0[set.node] = max($0[set.node] ?? 0, set.last) }
                if merged > 0 { try await foldSubjectIndexIfDue(added: merged) }
            }
            return outcome
        }
    }

    /// Moves the recent subject-index entries into the main index once there are enough of them:
    /// one pass over the index for tens of thousands of entries, instead of a scattered write
    /// per change. Runs as one write of its own in the writer's queue.
    func foldSubjectIndexIfDue(added: Int) async throws {
        let due = recentSubjectEntries.withLock { state -> Bool in
            state.count += added
            guard state.count >= subjectFoldThreshold, !state.folding else { return false }
            state.folding = true
            return true
        }
        guard due else { return }
        defer { recentSubjectEntries.withLock { $0.folding = false } }
        try await foldSubjectIndex()
    }

    /// Folds every recent subject-index entry into the main index now.
    public func foldSubjectIndex() async throws {
        let moved = try await groupCommit.submit { db -> Int in
            try db.execute(sql: """
                INSERT OR IGNORE INTO subject_index(subject_key, record_id, role)
                SELECT subject_key, record_id, role FROM subject_index_recent ORDER BY subject_key, record_id, role
                """)
            try db.execute(sql: "DELETE FROM subject_index_recent")
            return db.changesCount
        }
        recentSubjectEntries.withLock { $0.count = max(0, $0.count - moved) }
    }

    /// One set's ingest inside the writer's transaction; `nil` when the set is to be accepted but
    /// its bytes are not in the evidence log yet.
    func ingest(_ db: Database, _ prepared: PreparedSet, evidence: EvidenceLog.Location?, hub: String, key: SigningKey,
                at: Int64) throws -> IngestOutcome? {
        let set = prepared.set, envelope = prepared.envelope, digest = prepared.digest
        guard let node = try Row.fetchOne(db, sql: "SELECT log_size, log_frontier FROM node WHERE id = ?", arguments: [set.node]) else {
            throw RegistryError(description: "no node \(set.node)")
        }
        let size = UInt64(node["log_size"] as Int64)
        if set.first <= size {
            if let stored = try Row.fetchOne(db, sql: "SELECT digest, receipt FROM changeset WHERE node = ? AND first = ?",
                                             arguments: [set.node, Int64(set.first)]),
               (stored["digest"] as Data) == digest.data {
                try db.execute(sql: "UPDATE node SET last_seen = ? WHERE id = ?", arguments: [at, set.node])
                return .receipt(Array(stored["receipt"] as Data), newlyMerged: 0)
            }
            // Same changes regrouped, or different changes for sequences already held?
            let held = try heldChanges(db, node: set.node, from: set.first, through: min(set.last, size))
            let same = set.encodedChanges.enumerated().allSatisfy { i, change in
                set.first + UInt64(i) > size || held[set.first + UInt64(i)] == change
            }
            if same { return .gap(expected: size + 1) }
            try db.execute(sql: "INSERT INTO equivocation(node, first, last, envelope, received_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [set.node, Int64(set.first), Int64(set.last), Data(envelope), at])
            return .equivocation
        }
        guard set.first == size + 1 else { return .gap(expected: size + 1) }
        guard let evidence else { return nil }
        let frontier = try MerkleFrontier(encoded: Array(node["log_frontier"] as Data))
        let extended: MerkleFrontier
        do { extended = try set.extend(frontier, leafHashes: prepared.leaves) } catch { return .inconsistent("\(error)") }

        var hubFrontier = try db.hubFrontier()
        var merged = 0
        let statements = try MergeStatements(db)
        for i in prepared.entries.indices {
            if try merge(db, prepared.entries[i], statements, hubFrontier: &hubFrontier, at: at) == .effective { merged += 1 }
        }
        try db.setHubMeta("hub.frontier", Data(hubFrontier.encoded))

        let receipt = Receipt(hub: hub, keyId: key.keyId, node: set.node, first: set.first, last: set.last, tree: extended.head,
                              envelopeDigest: digest, receivedAt: UInt64(at))
        let receiptBytes = try receipt.signed(with: key).encoded
        try db.execute(sql: """
            INSERT INTO changeset(node, first, last, digest, envelope, receipt, received_at, evidence_offset, evidence_length)
            VALUES (?, ?, ?, ?, X'', ?, ?, ?, ?)
            """, arguments: [set.node, Int64(set.first), Int64(set.last), digest.data, Data(receiptBytes), at, evidence.offset, evidence.length])
        try db.execute(sql: "UPDATE node SET log_size = ?, log_frontier = ?, pushes = pushes + 1, last_seen = ? WHERE id = ?",
                       arguments: [Int64(extended.size), Data(extended.encoded), at, set.node])
        return .receipt(receiptBytes, newlyMerged: merged)
    }

    /// The record as held before a change is merged.
    private struct Held {
        var status: String
        var version: Int64
        var contentHash: Data
        var originNode: String
        var originSequence: Int64
        var effectiveAt: Int64
        var acceptedAt: Int64
        var routes: String
        var subjectKey: String
        var persons: String
        var id: Int64
    }

    /// Merges one change into the provincial records.
    ///
    /// - The same key and content from anywhere is one record; each further arrival is a route
    ///   (a `route` row, and its node in the record's `routes`).
    /// - Another version of a record from its origin node is a new version.
    /// - A different version from another node is a conflict: the later effective time wins, then
    ///   the later acceptance, then the smaller node id — the same winner whatever the arrival
    ///   order — and the conflict is listed for operators.
    /// - A correction or revocation is a new version; after a revocation nothing else applies.
    ///
    /// This runs once per change on the hub's single writer, and the province's merge rate
    /// depends on it: a new record (the common case) is inserted first and costs one B-tree
    /// descent; only when the key is already held is the record read and the rules above applied.
    /// The statements are bound through ``FastStatement``.
    func merge(_ db: Database, _ entry: PreparedSet.Entry, _ statements: MergeStatements, hubFrontier: inout MerkleFrontier,
               at: Int64) throws -> MergeEffect {
        let change = entry.change, key = entry.recordKey, hash = entry.contentHash
        let position = Int64(hubFrontier.size) + 1
        let subject = entry.subject
        let status = change.operation == .revoke ? "revoked" : "active"

        let insert = statements.insert
        let persons = subject.map { SubjectEntries($0.persons.map { SubjectEntries.Entry(key: $0.key, role: $0.role) }).column } ?? ""
        insert.bind(key, position, change.key.item, subject?.subject ?? "", persons, change.node, String(position), status, Int64(1),
                    hash, change.node, Int64(change.sequence), Int64(change.effectiveAt), Int64(change.acceptedAt), position)
        try insert.run()
        if insert.changes == 1 {
            try log(entry, position: position, statements, hubFrontier: &hubFrontier, at: at)
            if let subject {
                try statements.addToIndex(subject.subject, record: position, role: "subject")
                for person in subject.persons { try statements.addToIndex(person.key, record: position, role: person.role) }
            }
            return .effective
        }

        let lookup = statements.lookup
        lookup.bind(key)
        guard try lookup.next() else { throw RegistryError(description: "record \(key) vanished during the merge") }
        let current = Held(status: lookup.text(0), version: lookup.int(1), contentHash: lookup.blob(2), originNode: lookup.text(3),
                           originSequence: lookup.int(4), effectiveAt: lookup.int(5), acceptedAt: lookup.int(6), routes: lookup.text(7),
                           subjectKey: lookup.text(8), persons: lookup.text(9), id: lookup.int(10))
        lookup.finish()

        var effect: MergeEffect = .effective
        if current.status == "revoked" {
            effect = change.operation == .revoke ? .duplicate : .superseded
        } else if change.operation == .revoke {
            effect = .effective
        } else if current.contentHash == hash {
            effect = .duplicate
        } else if change.operation == .create, current.originNode != change.node {
            let incoming = (Int64(change.effectiveAt), Int64(change.acceptedAt), change.node)
            let held = (current.effectiveAt, current.acceptedAt, current.originNode)
            let incomingWins = incoming.0 != held.0 ? incoming.0 > held.0 : (incoming.1 != held.1 ? incoming.1 > held.1 : incoming.2 < held.2)
            let (winner, loser) = incomingWins
                ? ((change.node, Int64(change.sequence)), (held.2, current.originSequence))
                : ((held.2, current.originSequence), (change.node, Int64(change.sequence)))
            try db.execute(sql: """
                INSERT INTO conflict(record_key, winner_node, winner_sequence, loser_node, loser_sequence, detected_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [key, winner.0, winner.1, loser.0, loser.1, at])
            effect = incomingWins ? .effective : .superseded
        }
        guard effect == .effective else {
            statements.route.bind(change.node, Int64(change.sequence), key, hash, effect.rawValue)
            try statements.route.run()
            if effect == .duplicate {
                var routes = Set(current.routes.split(separator: ",").map(String.init))
                if routes.insert(change.node).inserted {
                    try db.execute(sql: "UPDATE record SET routes = ? WHERE record_key = ?", arguments: [routes.sorted().joined(separator: ","), key])
                }
            }
            return effect
        }

        // A new version. A revocation has no payload: the record keeps its subject and persons.
        let subjectKey = subject?.subject ?? current.subjectKey
        let newPersons = subject == nil ? current.persons : persons
        statements.update.bind(subjectKey, newPersons, change.node, position, status, current.version + 1, hash, change.node,
                               Int64(change.sequence), Int64(change.effectiveAt), Int64(change.acceptedAt), position, key)
        try statements.update.run()
        try log(entry, position: position, statements, hubFrontier: &hubFrontier, at: at)
        if subject != nil {
            let (removed, added) = Self.indexEntries(subject: current.subjectKey, persons: current.persons)
                .changes(to: Self.indexEntries(subject: subjectKey, persons: newPersons))
            for old in removed {
                for delete in [statements.unindex, statements.unindexRecent] {
                    delete.bind(old.key, current.id, old.role)
                    try delete.run()
                }
            }
            for new in added { try statements.addToIndex(new.key, record: current.id, role: new.role) }
        }
        return .effective
    }

    /// Appends an effective change to the hub log (and its frontier), and opens its Article 41
    /// windows when it is a correction or revocation.
    private func log(_ entry: PreparedSet.Entry, position: Int64, _ statements: MergeStatements, hubFrontier: inout MerkleFrontier,
                     at: Int64) throws {
        let change = entry.change
        hubFrontier.append(leafHash: entry.leaf)
        precondition(Int64(hubFrontier.size) == position, "the hub log and its frontier disagree")
        statements.log.bind(position, change.node, Int64(change.sequence), entry.recordKey, change.key.item, change.operation.name, at)
        try statements.log.run()
        if change.operation.isCorrection {
            statements.correction.bind(position, entry.recordKey, change.operation.name, change.node, Int64(change.sequence),
                                       Int64(change.effectiveAt), at)
            try statements.correction.run()
        }
    }

    /// The merge's statements, prepared once per change set.
    struct MergeStatements {
        let insert, lookup, update, route, log, index, unindex, unindexRecent, correction: FastStatement

        init(_ db: Database) throws {
            insert = try FastStatement(db, """
                INSERT INTO record(record_key, id, item, subject_key, persons, routes, history, status, version, content_hash,
                                   origin_node, origin_sequence, effective_at, accepted_at, hub_position)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(record_key) DO NOTHING
                """)
            lookup = try FastStatement(db, """
                SELECT status, version, content_hash, origin_node, origin_sequence, effective_at, accepted_at, routes, subject_key, persons, id
                FROM record WHERE record_key = ?
                """)
            update = try FastStatement(db, """
                UPDATE record SET subject_key = ?, persons = ?, routes = ?, history = history || ',' || ?, status = ?, version = ?,
                    content_hash = ?, origin_node = ?, origin_sequence = ?, effective_at = ?, accepted_at = ?, hub_position = ?
                WHERE record_key = ?
                """)
            unindex = try FastStatement(db, "DELETE FROM subject_index WHERE subject_key = ? AND record_id = ? AND role = ?")
            unindexRecent = try FastStatement(db, "DELETE FROM subject_index_recent WHERE subject_key = ? AND record_id = ? AND role = ?")
            route = try FastStatement(db, "INSERT INTO route(node, sequence, record_key, content_hash, effect) VALUES (?, ?, ?, ?, ?)")
            log = try FastStatement(db, """
                INSERT INTO hub_log(position, node, sequence, record_key, item, operation, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            index = try FastStatement(db, "INSERT OR IGNORE INTO subject_index_recent(subject_key, record_id, role) VALUES (?, ?, ?)")
            correction = try FastStatement(db, """
                INSERT INTO correction(hub_position, record_key, operation, origin_node, origin_sequence, effective_at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        }

        /// Files a record under a subject key (a subject's or an Article 33 person's); a person
        /// without an identifier has no key and is not filed.
        func addToIndex(_ subjectKey: String, record id: Int64, role: String) throws {
            guard !subjectKey.isEmpty else { return }
            index.bind(subjectKey, id, role)
            try index.run()
        }
    }

    /// The subject-index entries of a record: its subject's, then its persons' (the `persons` column).
    static func indexEntries(subject: String, persons: String) -> SubjectEntries {
        SubjectEntries([SubjectEntries.Entry(key: subject, role: "subject")] + SubjectEntries(column: persons).entries)
    }
}

extension HubStore {
    /// The bytes of `node`'s changes `from`…`through`, read from the change sets held as
    /// evidence — the only copy the hub keeps. Sets read recently are kept decoded in
    /// ``EvidenceCache``: every node's fan-out reads the same few sets.
    func heldChanges(_ db: Database, node: String, from: UInt64, through: UInt64) throws -> [UInt64: [UInt8]] {
        guard from <= through else { return [:] }
        var changes: [UInt64: [UInt8]] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT first, evidence_offset, evidence_length, digest FROM changeset WHERE node = ? AND last >= ? AND first <= ? ORDER BY first
            """, arguments: [node, Int64(from), Int64(through)])
        while let row = try rows.next() {
            let first = UInt64(row[0] as Int64)
            let location = (row[1] as Int64?).flatMap { offset in (row[2] as Int64?).map { EvidenceLog.Location(offset: offset, length: $0) } }
            let digest = row[3] as Data
            let encoded = try evidence.changes(node: node, first: first) {
                let envelope: [UInt8]
                if let location {
                    envelope = try evidenceLog.read(location, digest: digest, of: "node \(node)'s change set at \(first)")
                } else {
                    // Sets accepted before the evidence file (store v2) keep their bytes in the row.
                    guard let stored = try Data.fetchOne(db, sql: "SELECT envelope FROM changeset WHERE node = ? AND first = ?",
                                                         arguments: [node, Int64(first)]) else { return [] }
                    envelope = Array(stored)
                }
                return try ChangeSet.storedChanges(envelope).changes
            }
            for (i, bytes) in encoded.enumerated() {
                let sequence = first + UInt64(i)
                if sequence >= from, sequence <= through { changes[sequence] = bytes }
            }
        }
        return changes
    }
}
