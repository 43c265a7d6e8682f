public import CreditCore
public import Foundation
import CreditStorage
import GRDB
public import SyncProtocol

/// One write a provider asked for, validated and ready to be logged.
///
/// What the store derives from the write alone (its storage key, content hash and subject-index
/// entries) is derived here, where writes are prepared on every core, rather than on the store's
/// single writer.
public struct PreparedWrite: Sendable {
    public let key: RecordKey
    public var operation: ChangeOperation
    /// Canonical JSON of the record, UTF-8 (empty for a revocation).
    public let payload: [UInt8]
    /// SHA-256 of ``payload``.
    let contentHash: Data
    /// `provider/item/recordId`.
    let storageKey: String
    public let subjectKey: String
    public var subjectName: String
    /// Responsible persons and other keys the record is filed under, with their role.
    public let otherSubjects: [(key: String, role: String)]
    /// The subject and the other keys, as the subject index files them.
    let subjectEntries: SubjectEntries
    /// ``subjectEntries`` as the record row's `subjects` column.
    let subjectColumn: String
    public var recordClass: String
    public var reason: String
    public var decisionDocument: String
    /// When the provider says the change took effect (milliseconds since 1970).
    public var effectiveAt: UInt64

    public init(key: RecordKey, operation: ChangeOperation, payload: [UInt8], subjectKey: String, subjectName: String,
                otherSubjects: [(key: String, role: String)] = [], recordClass: String, reason: String = "",
                decisionDocument: String = "", effectiveAt: UInt64) {
        self.key = key
        self.operation = operation
        self.payload = payload
        contentHash = Hash32.sha256(payload).data
        storageKey = key.storageKey
        self.subjectKey = subjectKey
        self.subjectName = subjectName
        self.otherSubjects = otherSubjects
        subjectEntries = SubjectEntries([SubjectEntries.Entry(key: subjectKey, role: "subject")]
                                        + otherSubjects.map { SubjectEntries.Entry(key: $0.key, role: $0.role) })
        subjectColumn = subjectEntries.column
        self.recordClass = recordClass
        self.reason = reason
        self.decisionDocument = decisionDocument
        self.effectiveAt = effectiveAt
    }

    /// The write of a record that passed validation, provided by `provider` (the unit's USCC).
    public init(_ accepted: AcceptedRecord, provider: String, operation: ChangeOperation, effectiveAt: UInt64) {
        self.init(key: RecordKey(provider: provider, item: accepted.item.code, recordId: accepted.record.recordId), operation: operation,
                  payload: accepted.canonicalJSON, subjectKey: accepted.record.subject.key, subjectName: accepted.record.subject.name,
                  otherSubjects: accepted.responsiblePersons.map { ($0.key, $0.role.rawValue) },
                  recordClass: accepted.classification.recordClass.rawValue, effectiveAt: effectiveAt)
    }
}

/// What became of one write.
public enum WriteOutcome: Sendable, Equatable {
    /// Logged as a new change.
    case accepted(sequence: UInt64, version: Int)
    /// Identical to what the store already holds: nothing new was logged.
    case duplicate(sequence: UInt64, version: Int)
    /// A correction or revocation of a record the store does not hold.
    case notFound
    /// A change to a revoked record: revocation is final.
    case revoked
    /// A change to a record another node keeps (`Protocol/merge.md` §1): only its home changes it.
    case notHome(home: String)
    /// A correction to the content the record already has: the hub would take it as a duplicate
    /// (merge.md §3 rule 4), so no other node, and no Article 41 window, would ever see it.
    case unchanged
}

/// A record's storage key: `provider/item/recordId`.
extension RecordKey {
    var storageKey: String { "\(provider)/\(item)/\(recordId)" }

    /// The key ``storageKey`` names. A provider (a credit code) and an item (a catalog code) have
    /// no `/`, so the first two split it; the record id, which may, is the rest.
    init(storageKey: String) {
        let parts = storageKey.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        self.init(provider: parts[0], item: parts.count > 1 ? parts[1] : "", recordId: parts.count > 2 ? parts[2] : "")
    }
}

extension NodeStore {
    /// Logs `writes` in one transaction: each accepted write gets the next sequence number, its
    /// log entry, its history row and the new current state together, and the log's frontier is
    /// saved with them. Duplicates (an identical resubmission) log nothing.
    ///
    /// The record itself is stored once, in the log entry's encoded change: the history row of
    /// a version the node logged itself has an empty payload, and reads take it from the log
    /// (``record(_:)``). The payload is most of what a write stores, and the write-ahead log
    /// writes every page twice.
    public func write(_ writes: [PreparedWrite], node: String, credential: String, catalogVersion: String,
                      acceptedAt: UInt64) throws -> [WriteOutcome] {
        defer { logAppended.signal() }
        return try writer.write { db in
            try self.write(writes, node: node, credential: credential, catalogVersion: catalogVersion, acceptedAt: acceptedAt, in: db)
        }
    }

    /// ``write(_:node:credential:catalogVersion:acceptedAt:)``, suspending (not blocking a
    /// thread) while another write holds the store's single writer.
    public func write(_ writes: [PreparedWrite], node: String, credential: String, catalogVersion: String,
                      acceptedAt: UInt64) async throws -> [WriteOutcome] {
        defer { logAppended.signal() }
        return try await writer.write { db in
            try self.write(writes, node: node, credential: credential, catalogVersion: catalogVersion, acceptedAt: acceptedAt, in: db)
        }
    }

    private func write(_ writes: [PreparedWrite], node: String, credential: String, catalogVersion: String,
                       acceptedAt: UInt64, in db: Database) throws -> [WriteOutcome] {
        var frontier = try db.frontier(.logFrontier)
        var sequence = frontier.size
        var outcomes: [WriteOutcome] = []
        outcomes.reserveCapacity(writes.count)
        let insertLog = try FastStatement(db, "INSERT INTO log_entry(sequence, change, leaf_hash, accepted_at) VALUES (?, ?, ?, ?)")
        let insertVersion = try FastStatement(db, """
            INSERT INTO record_version(record_key, version, operation, origin_node, origin_sequence, hub_position, credential,
                reason, decision_document, effective_at, accepted_at, catalog_version, content_hash, payload)
            VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let lookup = try FastStatement(db, "SELECT status, version, content_hash, subjects, origin_node FROM record WHERE record_key = ?")
        let current = try CurrentStatements(db)
        for w in writes {
            let storageKey = w.storageKey
            lookup.bind(storageKey)
            let held: (status: String, version: Int, hash: Data, subjects: String, home: String)? = try lookup.next()
                ? (lookup.text(0), Int(lookup.int(1)), lookup.blob(2), lookup.text(3), lookup.text(4)) : nil
            if held != nil { lookup.finish() }
            let hash = w.contentHash
            if let held {
                let latest = try Row.fetchOne(db, sql: """
                    SELECT operation, reason, decision_document, origin_sequence, content_hash FROM record_version
                    WHERE record_key = ? AND version = ?
                    """, arguments: [storageKey, held.version])!
                let latestSequence = UInt64(latest["origin_sequence"] as Int64)
                let same = (latest["content_hash"] as Data) == hash && (latest["operation"] as String) == w.operation.name
                    && (latest["reason"] as String) == w.reason && (latest["decision_document"] as String) == w.decisionDocument
                if held.home != node {
                    // Another node's record (it came through the fan-out): the same content is a
                    // duplicate, anything else is for its home to write.
                    let copy = w.operation == .create && held.status == "active" && held.hash == hash
                    outcomes.append(copy || same ? .duplicate(sequence: latestSequence, version: held.version) : .notHome(home: held.home))
                    continue
                }
                if w.operation == .revoke, held.status == "revoked" {
                    outcomes.append(same ? .duplicate(sequence: latestSequence, version: held.version) : .revoked)
                    continue
                }
                if held.status == "revoked" { outcomes.append(.revoked); continue }
                if w.operation == .create, held.hash == hash {
                    outcomes.append(.duplicate(sequence: latestSequence, version: held.version))
                    continue
                }
                if same { outcomes.append(.duplicate(sequence: latestSequence, version: held.version)); continue }
                if w.operation == .correct, held.status == "active", held.hash == hash { outcomes.append(.unchanged); continue }
            } else if w.operation != .create {
                outcomes.append(.notFound)
                continue
            }
            sequence += 1
            let version = (held?.version ?? 0) + 1
            let change = Change(node: node, sequence: sequence, key: w.key, operation: w.operation, credential: credential,
                                reason: w.reason, decisionDocument: w.decisionDocument, effectiveAt: w.effectiveAt,
                                acceptedAt: acceptedAt, catalogVersion: catalogVersion, payload: w.payload)
            let encoded = change.encoded
            let leaf = MerkleHash.leaf(encoded)
            frontier.append(leafHash: leaf)
            insertLog.bind(Int64(sequence), StoredPayload.compress(encoded), leaf.data, Int64(acceptedAt))
            try insertLog.run()
            insertVersion.bind(storageKey, Int64(version), w.operation.name, node, Int64(sequence), credential, w.reason,
                               w.decisionDocument, Int64(w.effectiveAt), Int64(acceptedAt), catalogVersion, hash, [UInt8]())
            try insertVersion.run()
            try upsertCurrent(db, w, storageKey: storageKey, version: version, hash: hash, origin: node, at: acceptedAt, statements: current,
                              previousSubjects: held?.subjects ?? "")
            outcomes.append(.accepted(sequence: sequence, version: version))
        }
        try db.setFrontier(.logFrontier, frontier)
        try foldSubjectIndexIfDue(db)
        return outcomes
    }

    /// The statements that keep the current state, prepared once per batch.
    struct CurrentStatements {
        let upsert: FastStatement
        let index: FastStatement
        let unindex: FastStatement
        let unindexRecent: FastStatement

        init(_ db: Database) throws {
            upsert = try FastStatement(db, """
                INSERT INTO record(record_key, subject_key, subject_name, subjects, status, version,
                                   content_hash, record_class, origin_node, updated_at)
                VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)
                ON CONFLICT(record_key) DO UPDATE SET subject_key = excluded.subject_key, subject_name = excluded.subject_name,
                    subjects = excluded.subjects, status = 'active', version = excluded.version, content_hash = excluded.content_hash,
                    record_class = excluded.record_class, origin_node = excluded.origin_node, updated_at = excluded.updated_at
                """)
            index = try FastStatement(db, "INSERT OR IGNORE INTO subject_index_recent(record_key, subject_key, role) VALUES (?, ?, ?)")
            unindex = try FastStatement(db, "DELETE FROM subject_index WHERE subject_key = ? AND record_key = ? AND role = ?")
            unindexRecent = try FastStatement(db, "DELETE FROM subject_index_recent WHERE record_key = ? AND subject_key = ? AND role = ?")
        }
    }

    /// Updates the current state and the subject index after a new version. `previousSubjects`
    /// is the record's `subjects` column before it (`nil`: read it here).
    func upsertCurrent(_ db: Database, _ w: PreparedWrite, storageKey: String, version: Int, hash: Data, origin: String, at: UInt64,
                       statements: CurrentStatements? = nil, previousSubjects: String? = nil) throws {
        if w.operation == .revoke {
            try db.execute(sql: "UPDATE record SET status = 'revoked', version = ?, updated_at = ? WHERE record_key = ?",
                           arguments: [version, Int64(at), storageKey])
            return
        }
        let statements = try statements ?? CurrentStatements(db)
        var previous = SubjectEntries([])
        if version > 1 {
            previous = SubjectEntries(column: try previousSubjects
                ?? String.fetchOne(db, sql: "SELECT subjects FROM record WHERE record_key = ?", arguments: [storageKey]) ?? "")
        }
        let entries = w.subjectEntries
        statements.upsert.bind(storageKey, w.subjectKey, w.subjectName, w.subjectColumn,
                               Int64(version), hash, w.recordClass, origin, Int64(at))
        try statements.upsert.run()
        let (removed, added) = version > 1 ? previous.changes(to: entries) : ([], entries.entries)
        for old in removed {
            statements.unindex.bind(old.key, storageKey, old.role)
            try statements.unindex.run()
            statements.unindexRecent.bind(storageKey, old.key, old.role)
            try statements.unindexRecent.run()
        }
        for new in added {
            statements.index.bind(storageKey, new.key, new.role)
            try statements.index.run()
        }
        recentSubjectEntries.withLock { $0 += added.count }
    }

    /// Folds the recent subject-index entries into the main index once there are enough: one
    /// pass over the index for thousands of entries rather than a scattered page write per
    /// record at every commit (subject keys are random).
    func foldSubjectIndexIfDue(_ db: Database) throws {
        guard recentSubjectEntries.withLock({ $0 }) >= subjectFoldThreshold else { return }
        try foldSubjectIndex(db)
    }

    func foldSubjectIndex(_ db: Database) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO subject_index(subject_key, record_key, role)
            SELECT subject_key, record_key, role FROM subject_index_recent ORDER BY subject_key, record_key, role
            """)
        try db.execute(sql: "DELETE FROM subject_index_recent")
        recentSubjectEntries.withLock { $0 = 0 }
    }

    /// Folds every recent subject-index entry into the main index now.
    public func foldSubjectIndex() throws {
        try writer.write { try foldSubjectIndex($0) }
    }
}

/// A record as the provider API shows it: current state and full history (Article 38).
public struct RecordDetail: Sendable, Codable {
    /// One version, with where it came from and why.
    public struct Version: Sendable, Codable {
        public var version: Int
        public var operation: String
        public var originNode: String
        public var originSequence: UInt64
        public var hubPosition: UInt64?
        public var credential: String
        public var reason: String?
        public var decisionDocument: String?
        public var effectiveAt: Date
        public var acceptedAt: Date
        public var catalogVersion: String
        public var record: JSONValue?
    }

    public var provider: String
    public var item: String
    public var recordId: String
    public var subjectKey: String
    public var subjectName: String
    public var status: String
    public var version: Int
    public var recordClass: String?
    public var originNode: String
    public var record: JSONValue
    /// Lowercase hex SHA-256 of the current content: what the hub's signed account of a subject
    /// lists for the same record (Article 38).
    public var contentHash: String
    public var history: [Version]
    /// Objection labels, display, and the credit subject's cases on the record (Articles 38–40).
    public var rights: RecordRights
}

/// One line of a subject's record list.
public struct RecordSummary: Sendable, Codable {
    public var provider: String
    public var item: String
    public var recordId: String
    public var role: String
    public var status: String
    public var version: Int
    public var recordClass: String?
    public var subjectName: String
    /// `objection` while an objection to the record is open (Article 39).
    public var labels: [String]
    /// `withdrawn` after a granted restoration or a list removal, else `displayed`.
    public var display: String
}

extension NodeStore {
    /// A record with its history, or `nil`.
    public func record(_ key: RecordKey) throws -> RecordDetail? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM record WHERE record_key = ?", arguments: [key.storageKey]) else {
                return nil
            }
            let versions = try Row.fetchAll(db, sql: "SELECT * FROM record_version WHERE record_key = ? ORDER BY version", arguments: [key.storageKey])
            let payloads = try versions.map { try Self.payload(of: $0, db) }
            return RecordDetail(
                provider: key.provider, item: key.item, recordId: key.recordId, subjectKey: row["subject_key"],
                subjectName: row["subject_name"], status: row["status"], version: row["version"], recordClass: row["record_class"],
                originNode: row["origin_node"], record: Self.json(payloads.last(where: { !$0.isEmpty }) ?? ""),
                contentHash: Array(row["content_hash"] as Data).hex,
                history: zip(versions, payloads).map { v, payload in
                    let reason: String = v["reason"], document: String = v["decision_document"]
                    return RecordDetail.Version(
                        version: v["version"], operation: v["operation"], originNode: v["origin_node"],
                        originSequence: UInt64(v["origin_sequence"] as Int64), hubPosition: (v["hub_position"] as Int64?).map(UInt64.init),
                        credential: v["credential"], reason: reason.isEmpty ? nil : reason,
                        decisionDocument: document.isEmpty ? nil : document,
                        effectiveAt: Date(timeIntervalSince1970: Double(v["effective_at"] as Int64) / 1000),
                        acceptedAt: Date(timeIntervalSince1970: Double(v["accepted_at"] as Int64) / 1000),
                        catalogVersion: v["catalog_version"], record: payload.isEmpty ? nil : Self.json(payload))
                },
                rights: try rights(db, recordKey: key.storageKey))
        }
    }

    /// Every record filed under `subjectKey`, as the subject or as a responsible person.
    public func records(subject subjectKey: String) throws -> [RecordSummary] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.record_key, i.role, r.status, r.version, r.record_class, r.subject_name
                FROM (SELECT record_key, role FROM subject_index WHERE subject_key = ?1
                      UNION SELECT record_key, role FROM subject_index_recent WHERE subject_key = ?1) i
                JOIN record r ON r.record_key = i.record_key
                """, arguments: [subjectKey]).map { row -> (String, RecordSummary) in
                let storageKey: String = row[0]
                let key = RecordKey(storageKey: storageKey)
                let rights = try rights(db, recordKey: storageKey)
                return (storageKey, RecordSummary(provider: key.provider, item: key.item, recordId: key.recordId, role: row[1], status: row[2],
                                                  version: row[3], recordClass: row[4], subjectName: row[5], labels: rights.labels,
                                                  display: rights.display))
            }
            // By item, then record key, then role: the order a subject's records are listed in.
            .sorted { ($0.1.item, $0.0, $0.1.role) < ($1.1.item, $1.0, $1.1.role) }
            .map(\.1)
        }
    }

    /// A history row's record: in the row for a version that came from the hub, in the log entry
    /// for one this node logged; empty for a revocation. Both are stored compressed (``StoredPayload``).
    static func payload(of version: Row, _ db: Database) throws -> String {
        let stored: Data = version["payload"]
        if !stored.isEmpty { return String(decoding: try StoredPayload.decompress(stored), as: UTF8.self) }
        guard (version["operation"] as String) != ChangeOperation.revoke.name,
              let change = try Data.fetchOne(db, sql: "SELECT change FROM log_entry WHERE sequence = ?",
                                             arguments: [version["origin_sequence"] as Int64]) else { return "" }
        return String(decoding: try Change(decoding: StoredPayload.decompress(change)).payload, as: UTF8.self)
    }

    static func json(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }
}
