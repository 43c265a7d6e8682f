import CreditCore
import CreditStorage
public import Foundation
import GRDB
public import SyncProtocol
import SyncTransport

/// The outcome of offering a verified change set to the store.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored and merged (or already held): the signed receipt to send back, how many changes
    /// became effective, and the changes the merge refused (kept as evidence, changing nothing).
    case receipt([UInt8], newlyMerged: Int, refused: [ChangeRefusal] = [])
    /// The set does not continue the node's log where the hub holds it.
    case gap(expected: UInt64)
    /// A different set for a range the hub already acknowledged: kept as evidence, refused.
    case equivocation
    /// The tree heads do not follow from the node's log.
    case inconsistent(String)
    /// The node, or the key that signed the set, was revoked after the set's signature was
    /// checked and before its merge: refused as if it had been revoked before (`revoked-node`
    /// or `untrusted-key`).
    case untrusted(code: String, message: String)
}

/// What a hub-log entry is, in its `reassert` column (`Protocol/merge.md` §4).
enum HubLogKind: Int64 {
    /// A new version: it goes to every node but its origin.
    case effective = 0
    /// A record's current version logged again after a refused change: to every node.
    case reassertion = 1
    /// A new version of a record that was re-asserted before: to every node, its origin included.
    case toEveryNode = 2
}

/// What the merge of one change did.
enum MergeEffect: Equatable {
    /// A new record: logged and fanned out.
    case created
    /// A new version: logged and fanned out.
    case effective
    /// The content the hub already holds, from any node: another route of the same record.
    case duplicate
    /// Refused (`Protocol/merge.md` §3): nothing changed but the refusal's row, and the record's
    /// current version logged again for the nodes that hold another one.
    case refused(ChangeRefusal)
}

extension HubStore {
    /// Equivocating envelopes kept whole per node; later ones are counted, not stored.
    static let equivocationsKeptWhole = 16

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
    /// from the sets already handed to the writer (``IngestSequencer``, which also holds a set
    /// back until the sets before it are handed over, when a node pipelines), kept in memory,
    /// not read from the database: a read here would wait for a reader connection while
    /// holding a thread. The transaction
    /// decides: a set it accepts whose bytes were not appended (the node's log moved on
    /// meanwhile) is appended then and offered again; bytes appended for a set it does not accept
    /// stay in the file unreferenced.
    public func ingest(_ prepared: PreparedSet, hub: String, key: SigningKey, receivedAt: Date) async throws -> IngestOutcome {
        let set = prepared.set
        let committed = acknowledged.withLock { $0[set.node] ?? 0 }
        // A set sent while the one before it is still on its way waits for it (pipelining).
        let continues = await sequencer.turn(node: set.node, first: set.first, committed: committed)
        var evidence: EvidenceLog.Location?
        do {
            if continues {
                // Only a set that continues the node's log as the hub holds it is worth its bytes
                // in the evidence file: one whose tree heads are wrong is refused before anything
                // is written, so a node cannot fill the hub's disk with sets the hub will not take.
                if let frontier = try committedFrontier(node: set.node), frontier.size + 1 == set.first,
                   (try? set.extend(frontier, leafHashes: prepared.leaves)) == nil {
                    sequencer.reset(node: set.node)
                    return .inconsistent("the set's tree heads do not follow from node \(set.node)'s log of \(frontier.size) changes")
                }
                evidence = try await evidenceLog.append(prepared.envelope)
            }
            while true {
                let stored = evidence
                let outcome = try await groupCommit.submit({ db in
                    try self.ingest(db, prepared, evidence: stored, hub: hub, key: key, at: Self.millis(receivedAt))
                }, queued: { if continues { self.sequencer.handedOver(node: set.node, through: set.last) } })
                guard let outcome else {
                    evidence = try await evidenceLog.append(prepared.envelope)
                    continue
                }
                guard case let .receipt(_, merged, _) = outcome else {
                    sequencer.reset(node: set.node)
                    return outcome
                }
                acknowledged.withLock { $0[set.node] = max($0[set.node] ?? 0, set.last) }
                if merged > 0 { try await foldSubjectIndexIfDue(added: merged) }
                return outcome
            }
        } catch {
            sequencer.reset(node: set.node)
            throw error
        }
    }

    /// The node's log frontier as last committed, `nil` for an unknown node.
    func committedFrontier(node: String) throws -> MerkleFrontier? {
        try writer.read { try $0.nodeLogFrontier(node) }
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

    /// The receipt of the set this hub accepted from `node` starting at `first`, if its envelope
    /// has `digest`: one row, by the table's key.
    public func storedReceipt(node: String, first: UInt64, envelopeDigest digest: Hash32) throws -> [UInt8]? {
        try writer.read { db in
            try Data.fetchOne(db, sql: "SELECT receipt FROM changeset WHERE node = ? AND first = ? AND digest = ?",
                              arguments: [node, Int64(first), digest.data]).map(Array.init)
        }
    }

    /// One set's ingest inside the writer's transaction; `nil` when the set is to be accepted but
    /// its bytes are not in the evidence log yet.
    func ingest(_ db: Database, _ prepared: PreparedSet, evidence: EvidenceLog.Location?, hub: String, key: SigningKey,
                at: Int64) throws -> IngestOutcome? {
        let set = prepared.set, envelope = prepared.envelope, digest = prepared.digest
        guard let node = try Row.fetchOne(db, sql: "SELECT log_size, log_frontier, status FROM node WHERE id = ?", arguments: [set.node]) else {
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
            // Evidence of a node's first equivocations is kept whole; after that only that they
            // happened, so a hostile node cannot fill the hub's disk with 16 MiB envelopes.
            try db.execute(sql: """
                INSERT INTO equivocation(node, first, last, envelope, received_at)
                VALUES (?1, ?2, ?3, CASE WHEN (SELECT COUNT(*) FROM equivocation WHERE node = ?1) < ?6 THEN ?4 ELSE X'' END, ?5)
                """, arguments: [set.node, Int64(set.first), Int64(set.last), Data(envelope), at, Self.equivocationsKeptWhole])
            return .equivocation
        }
        guard set.first == size + 1 else { return .gap(expected: size + 1) }
        // The registry as this transaction sees it: a revocation that landed while the set waited
        // for its turn (its signature was checked before) holds, as hub-api.md says.
        guard (node["status"] as String) == "active" else { return .untrusted(code: "revoked-node", message: "node \(set.node) is revoked") }
        guard try String.fetchOne(db, sql: "SELECT status FROM node_key WHERE key_id = ? AND node = ?", arguments: [set.keyId, set.node]) == "active" else {
            return .untrusted(code: "untrusted-key", message: "key \(set.keyId) is not an active key of \(set.node)")
        }
        guard let evidence else { return nil }
        let frontier = try MerkleFrontier(encoded: Array(node["log_frontier"] as Data))
        let extended: MerkleFrontier
        do { extended = try set.extend(frontier, leafHashes: prepared.leaves) } catch { return .inconsistent("\(error)") }

        var hubFrontier = try db.hubFrontier()
        var merged = 0, created = 0
        var refused: [ChangeRefusal] = []
        let statements = try MergeStatements(db)
        var reasserted: Set<String> = []
        for i in prepared.entries.indices {
            switch try merge(db, prepared.entries[i], in: prepared, statements, hubFrontier: &hubFrontier, reasserted: &reasserted, at: at) {
            case .created: merged += 1; created += 1
            case .effective: merged += 1
            case .duplicate: break
            case let .refused(refusal): refused.append(refusal)
            }
        }
        // Operators' counts are kept, not counted: a status read costs the same at any size.
        if created > 0 { try db.execute(sql: "UPDATE counter SET value = value + ? WHERE name = 'records'", arguments: [created]) }
        try db.setHubMeta("hub.frontier", Data(hubFrontier.encoded))

        let receipt = Receipt(hub: hub, keyId: key.keyId, node: set.node, first: set.first, last: set.last, tree: extended.head,
                              envelopeDigest: digest, receivedAt: UInt64(at))
        let receiptBytes = try receipt.signed(with: key).encoded
        try db.execute(sql: """
            INSERT INTO changeset(node, first, last, digest, receipt, received_at, evidence_offset, evidence_length)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [set.node, Int64(set.first), Int64(set.last), digest.data, Data(receiptBytes), at, evidence.offset, evidence.length])
        try db.execute(sql: "UPDATE node SET log_size = ?, log_frontier = ?, pushes = pushes + 1, last_seen = ? WHERE id = ?",
                       arguments: [Int64(extended.size), Data(extended.encoded), at, set.node])
        return .receipt(receiptBytes, newlyMerged: merged, refused: refused)
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
        /// The hub-log position of the current version.
        var hubPosition: Int64
        /// Whether the record was ever re-asserted.
        var contested: Bool
    }

    /// Merges one change into the provincial records, by the rules of `Protocol/merge.md`:
    ///
    /// - A record's **home** is the node whose `create` of it the hub merged first; only its home
    ///   changes it afterwards (Article 41 puts corrections in the providing unit's hands, and the
    ///   unit writes through its node). Another node's different version is refused
    ///   (`not-home`) and listed as a conflict.
    /// - The same content from any node is one record; each further arrival is a route.
    /// - After a revocation nothing else applies (`revoked`).
    /// - A change the preparation found invalid (``PreparedSet/Entry/refusal``) is refused as it is.
    ///
    /// A refused change leaves the record as it was, and the record's current version is logged
    /// again (a re-assertion): the node that sent it holds another version, and the fan-out must
    /// bring it back to the hub's. That is what makes every node end on the hub's decision
    /// whatever the order changes arrive in.
    ///
    /// This runs once per change on the hub's single writer, and the province's merge rate
    /// depends on it: a new record (the common case) is inserted first and costs one B-tree
    /// descent; only when the key is already held is the record read and the rules above applied.
    /// The statements are bound through ``FastStatement``.
    /// - Parameter reasserted: the records this set's refusals re-asserted already: once per set
    ///   is enough (the node applies the fan-out after its own writes), and a set of thousands of
    ///   refused changes to one record must not add thousands of entries for every node to read.
    func merge(_ db: Database, _ entry: PreparedSet.Entry, in set: PreparedSet, _ statements: MergeStatements,
               hubFrontier: inout MerkleFrontier, reasserted: inout Set<String>, at: Int64) throws -> MergeEffect {
        let change = entry.change, key = entry.recordKey, hash = entry.contentHash
        if change.operation.isRights { return try mergeRights(db, entry, in: set, statements, hubFrontier: &hubFrontier, at: at) }
        let position = Int64(hubFrontier.size) + 1
        let subject = entry.subject
        let status = change.operation == .revoke ? "revoked" : "active"
        let persons = subject.map { SubjectEntries($0.persons.map { SubjectEntries.Entry(key: $0.key, role: $0.role) }).column } ?? ""

        if entry.refusal == nil, change.operation == .create {
            let insert = statements.insert
            insert.bind(key, position, change.key.item, subject?.subject ?? "", persons, change.node, String(position), status, Int64(1),
                        hash, change.node, Int64(change.sequence), Int64(change.effectiveAt), Int64(change.acceptedAt), position)
            try insert.run()
            if insert.changes == 1 {
                try log(entry, position: position, statements, hubFrontier: &hubFrontier, at: at)
                if let subject {
                    try statements.addToIndex(subject.subject, record: position, role: "subject")
                    for person in subject.persons { try statements.addToIndex(person.key, record: position, role: person.role) }
                }
                return .created
            }
        }

        let lookup = statements.lookup
        lookup.bind(key)
        guard try lookup.next() else {
            // Not held: only a valid create makes a record, and that was inserted above.
            let refusal = entry.refusal ?? ChangeRefusal(change, code: "unknown-record", field: "recordId",
                                                         message: "the hub holds no record \(key) to \(change.operation.name)")
            try refuse(db, refusal, statements, at: at)
            return .refused(refusal)
        }
        let current = Held(status: lookup.text(0), version: lookup.int(1), contentHash: lookup.blob(2), originNode: lookup.text(3),
                           originSequence: lookup.int(4), effectiveAt: lookup.int(5), acceptedAt: lookup.int(6), routes: lookup.text(7),
                           subjectKey: lookup.text(8), persons: lookup.text(9), id: lookup.int(10),
                           hubPosition: lookup.int(11), contested: lookup.int(12) != 0)
        lookup.finish()

        let sameContent = current.status == "active" && change.operation != .revoke && current.contentHash == hash
        let refusal: ChangeRefusal?
        if let invalid = entry.refusal {
            refusal = invalid
        } else if sameContent || (current.status == "revoked" && change.operation == .revoke) {
            // The version the hub holds, again: from its home a resubmission, from another node
            // the same record carried twice (deduplication).
            statements.route.bind(change.node, Int64(change.sequence), key, hash, "duplicate")
            try statements.route.run()
            var routes = Set(current.routes.split(separator: ",").map(String.init))
            if routes.insert(change.node).inserted {
                try db.execute(sql: "UPDATE record SET routes = ? WHERE record_key = ?", arguments: [routes.sorted().joined(separator: ","), key])
            }
            return .duplicate
        } else if change.node != current.originNode {
            // The field a provider meets in its node's list is the one its node names for the same
            // refusal (records.md): the record, not a member of the wire change.
            refusal = ChangeRefusal(change, code: "not-home", field: "recordId",
                                    message: "record \(key) is kept by node \(current.originNode); node \(change.node) may not \(change.operation.name) it")
            try db.execute(sql: """
                INSERT INTO conflict(record_key, winner_node, winner_sequence, loser_node, loser_sequence, detected_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [key, current.originNode, current.originSequence, change.node, Int64(change.sequence), at])
        } else if current.status == "revoked" {
            refusal = ChangeRefusal(change, code: "revoked", field: "recordId",
                                    message: "record \(key) was revoked; a revocation is final, no \(change.operation.name) applies")
        } else {
            refusal = nil
        }
        if let refusal {
            try refuse(db, refusal, statements, at: at)
            if reasserted.insert(key).inserted {
                try reassert(db, current, key: key, item: change.key.item, in: set, statements, hubFrontier: &hubFrontier, at: at)
            }
            return .refused(refusal)
        }

        // A new version from the record's home. A revocation has no payload: the record keeps its
        // subject and persons.
        let subjectKey = subject?.subject ?? current.subjectKey
        let newPersons = subject == nil ? current.persons : persons
        statements.update.bind(subjectKey, newPersons, change.node, position, status, current.version + 1, hash, change.node,
                               Int64(change.sequence), Int64(change.effectiveAt), Int64(change.acceptedAt), position, key)
        try statements.update.run()
        // Once a record was re-asserted, some node may have applied an older version over its own
        // newer one: every later version goes to every node, its home included (merge.md §4).
        try log(entry, position: position, statements, hubFrontier: &hubFrontier, at: at, kind: current.contested ? .toEveryNode : .effective)
        // A later refusal in this set re-asserts this version, not the one before.
        reasserted.remove(key)
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

    /// Keeps a refused change's refusal for operators; the change's bytes stay in its set's evidence.
    func refuse(_ db: Database, _ refusal: ChangeRefusal, _ statements: MergeStatements, at: Int64) throws {
        statements.refusal.bind(refusal.node, Int64(refusal.sequence), refusal.recordKey, refusal.code, refusal.field, refusal.message, at)
        try statements.refusal.run()
    }

    /// Logs the record's current version again, at a new hub-log position, so that the fan-out
    /// brings every node that holds another version (the refused change's node above all) back
    /// to it. It is not a new version: the record's history and windows stay as they are.
    private func reassert(_ db: Database, _ current: Held, key: String, item: String, in set: PreparedSet, _ statements: MergeStatements,
                          hubFrontier: inout MerkleFrontier, at: Int64) throws {
        let sequence = UInt64(current.originSequence)
        let bytes: [UInt8]
        if current.originNode == set.set.node, sequence >= set.set.first, let inSet = set.entries.first(where: { $0.change.sequence == sequence }) {
            bytes = inSet.bytes
        } else if let held = try heldChanges(db, node: current.originNode, from: sequence, through: sequence)[sequence] {
            bytes = held
        } else {
            throw RegistryError(description: "the evidence of \(current.originNode) lacks change \(sequence), the current version of \(key)")
        }
        let operation = try String.fetchOne(db, sql: "SELECT operation FROM hub_log WHERE position = ?", arguments: [current.hubPosition])
            ?? ChangeOperation.create.name
        try statements.append(leaf: MerkleHash.leaf(bytes), to: &hubFrontier)
        try db.execute(sql: """
            INSERT INTO hub_log(position, node, sequence, record_key, item, operation, received_at, reassert) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [Int64(hubFrontier.size), current.originNode, current.originSequence, key, item, operation, at,
                             HubLogKind.reassertion.rawValue])
        if !current.contested { try db.execute(sql: "UPDATE record SET contested = 1 WHERE record_key = ?", arguments: [key]) }
    }

    /// Appends an effective change to the hub log (and its frontier), and opens its Article 41
    /// windows when it is a correction or revocation.
    func log(_ entry: PreparedSet.Entry, position: Int64, _ statements: MergeStatements, hubFrontier: inout MerkleFrontier,
                     at: Int64, kind: HubLogKind = .effective) throws {
        let change = entry.change
        try statements.append(leaf: entry.leaf, to: &hubFrontier)
        precondition(Int64(hubFrontier.size) == position, "the hub log and its frontier disagree")
        statements.log.bind(position, change.node, Int64(change.sequence), entry.recordKey, change.key.item, change.operation.name, at,
                            kind.rawValue, Int64(change.acceptedAt))
        try statements.log.run()
        if change.operation.isCorrection {
            statements.correction.bind(position, entry.recordKey, change.operation.name, change.node, Int64(change.sequence),
                                       Int64(change.effectiveAt), at)
            try statements.correction.run()
        }
    }

    /// The merge's statements, prepared once per change set.
    struct MergeStatements {
        let insert, lookup, update, route, log, index, unindex, unindexRecent, correction, refusal, tree: FastStatement

        init(_ db: Database) throws {
            insert = try FastStatement(db, """
                INSERT INTO record(record_key, id, item, subject_key, persons, routes, history, status, version, content_hash,
                                   origin_node, origin_sequence, effective_at, accepted_at, hub_position)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(record_key) DO NOTHING
                """)
            lookup = try FastStatement(db, """
                SELECT status, version, content_hash, origin_node, origin_sequence, effective_at, accepted_at, routes, subject_key, persons, id,
                       hub_position, contested
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
                INSERT INTO hub_log(position, node, sequence, record_key, item, operation, received_at, reassert, accepted_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            index = try FastStatement(db, "INSERT OR IGNORE INTO subject_index_recent(subject_key, record_id, role) VALUES (?, ?, ?)")
            refusal = try FastStatement(db, """
                INSERT INTO refusal(node, sequence, record_key, code, field, message, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            tree = try FastStatement(db, "INSERT INTO hub_tree(node, hash) VALUES (?, ?)")
            correction = try FastStatement(db, """
                INSERT INTO correction(hub_position, record_key, operation, origin_node, origin_sequence, effective_at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        }

        /// Appends a leaf to the hub log's tree: its frontier, and every perfect subtree it
        /// completes, kept for proofs.
        func append(leaf: Hash32, to frontier: inout MerkleFrontier) throws {
            try frontier.append(leafHash: leaf) { level, index, hash in
                tree.bind(HubStore.treeNode(level: level, index: index), hash.data)
                try tree.run()
            }
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
    /// The sets of node `?1` that hold its changes `?2`…`?3`: the one holding `?2` (the last to
    /// start at or before it; a node's sets are contiguous) and those starting after it up to
    /// `?3`. Found by the key (node, first) at both ends: asked as `last >= ?2`, SQLite walked
    /// every set of the node from its first, and every fan-out read of a node with a long
    /// history paid for all of it (243 ms for two million sets).
    static let setsHolding = """
        SELECT first, evidence_offset, evidence_length, digest FROM changeset
        WHERE node = ?1 AND first <= ?3
            AND first >= COALESCE((SELECT first FROM changeset WHERE node = ?1 AND first <= ?2 ORDER BY first DESC LIMIT 1), 0)
        ORDER BY first
        """

    /// The bytes of `node`'s changes `from`…`through`, read from the change sets held as
    /// evidence — the only copy the hub keeps. Sets read recently are kept decoded in
    /// ``EvidenceCache``: every node's fan-out reads the same few sets.
    func heldChanges(_ db: Database, node: String, from: UInt64, through: UInt64) throws -> HeldChanges {
        guard from <= through else { return HeldChanges(first: from, changes: []) }
        var changes = HeldChanges(first: from, changes: Array(repeating: nil, count: Int(through - from + 1)))
        let rows = try Row.fetchCursor(try db.cachedStatement(sql: Self.setsHolding), arguments: [node, Int64(from), Int64(through)])
        while let row = try rows.next() {
            let first = UInt64(row[0] as Int64)
            let location = EvidenceLog.Location(offset: row[1], length: row[2])
            let digest = row[3] as Data
            let encoded = try evidence.changes(node: node, first: first) {
                try ChangeSet.storedChanges(try evidenceLog.read(location, digest: digest, of: "node \(node)'s change set at \(first)")).changes
            }
            for (i, bytes) in encoded.enumerated() {
                let sequence = first + UInt64(i)
                if sequence >= from, sequence <= through { changes.changes[Int(sequence - from)] = bytes }
            }
        }
        return changes
    }
}

/// A node's changes `first`… as ``HubStore/heldChanges(_:node:from:through:)`` read them:
/// by position in an array, not hashed by sequence, since a fan-out batch reads thousands.
struct HeldChanges {
    let first: UInt64
    var changes: [[UInt8]?]

    /// The change at `sequence`, `nil` when it was not read.
    subscript(sequence: UInt64) -> [UInt8]? {
        sequence >= first && sequence - first < UInt64(changes.count) ? changes[Int(sequence - first)] : nil
    }
}
