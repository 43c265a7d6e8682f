import Foundation
import GRDB
public import CreditStorage
import Synchronization
import SyncProtocol

/// The node's local store: current records and their full history, the node's append-only log
/// with its Merkle tree, the hub's receipts, provider credentials and the enquiry audit log.
///
/// One SQLite file in WAL mode. Every write that a provider is told about commits, with
/// `synchronous = FULL`, before the answer goes out; the log entry and the tree head are written
/// in the same transaction as the record, so a crash can never leave one without the other.
/// History, the log and the audit log are append-only, enforced by triggers.
public final class NodeStore: Sendable {
    let writer: any DatabaseWriter
    /// Held while a daemon owns the store.
    private let lock: StoreLock?
    private let checkpointer: WALCheckpointer?
    /// Entries in `subject_index_recent` after which they are folded into `subject_index`.
    let subjectFoldThreshold: Int
    /// Signalled after every commit that appended to the log: the pusher waits on it instead of
    /// reading the store over and over while there is nothing to push.
    public let logAppended = ChangeSignal()
    /// Set when the receiver saw the hub hold less of this node's log than it acknowledged
    /// (``hubPositionInDoubt()``); taken by the pusher.
    let positionDoubt = Mutex(false)
    let recentSubjectEntries: Mutex<Int>

    /// Opens (creating if needed) the store at `path`; `nil` gives an in-memory store for tests,
    /// with the same schema.
    /// - Throws: a GRDB error when the file cannot be opened or migrated.
    /// - Parameters:
    ///   - role: the daemon takes the store's lock; an operator command (`node provider add`)
    ///     opens it beside a running daemon without it (``StoreRole``).
    ///   - backgroundCheckpoints: run a ``WALCheckpointer`` beside the writer (the daemon does);
    ///     the simulator turns it off, since a thread of its own would make runs differ, and
    ///     leaves checkpoints to the writer's own automatic ones.
    public init(path: String?, role: StoreRole = .daemon, subjectFoldThreshold: Int = 20_000, backgroundCheckpoints: Bool = true) throws {
        lock = try StoreLock.take(database: path, role: role)
        writer = try SQLiteDatabase.open(path: path)
        try Self.migrator.migrate(writer)
        checkpointer = backgroundCheckpoints && role == .daemon ? try path.map { try WALCheckpointer(path: $0) } : nil
        self.subjectFoldThreshold = subjectFoldThreshold
        recentSubjectEntries = Mutex(try writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM subject_index_recent") } ?? 0)
    }

    /// Claims the store at `path` for node `id`, or refuses it when it is another's
    /// (``StoreOwner``): the daemon does, before it serves or pushes anything.
    public func claim(node id: String, path: String) throws {
        try StoreOwner.claim(writer, as: StoreOwner.name(role: "node", id: id), path: path)
    }

    /// Closes every connection to the store now (the simulator's crash; a daemon lets it go).
    public func close() throws {
        defer { lock?.release() }
        // Wait for whatever the writer's queue is still finishing (a transaction's end after its
        // caller resumed): closing under it would leave a connection open behind the lock.
        try? writer.barrierWriteWithoutTransaction { _ in }
        checkpointer?.stop()
        try writer.close()
    }

    /// The `synchronous` setting of the writer connection (2 is FULL).
    public func synchronousSetting() throws -> Int {
        try SQLiteDatabase.synchronousSetting(writer)
    }

    /// The journal mode (`wal` for a file store).
    public func journalMode() throws -> String {
        try writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The store's schema. Until a release ships it is changed in place, not migrated: no
    /// deployed store has an older one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);

                -- The node's log: every change it accepted, in sequence, exactly as encoded, and
                -- compressed (StoredPayload); leaf_hash is over the encoding, not the compression.
                CREATE TABLE log_entry (
                    sequence INTEGER PRIMARY KEY,
                    change BLOB NOT NULL,
                    leaf_hash BLOB NOT NULL,
                    accepted_at INTEGER NOT NULL
                );

                -- Current state of each record (own and fanned-out). Its payload is the latest
                -- version's, in record_version or, for the node's own, in the log; the row lists
                -- the record's subject-index entries, to remove them without an index by record.
                -- record_key is "provider/item/recordId": the parts are read from it, not kept twice.
                CREATE TABLE record (
                    record_key TEXT PRIMARY KEY,
                    subject_key TEXT NOT NULL,
                    subject_name TEXT NOT NULL,
                    -- Every subject-index entry of the record, as "key<TAB>role" lines.
                    subjects TEXT NOT NULL,
                    status TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    content_hash BLOB NOT NULL,
                    record_class TEXT,
                    origin_node TEXT NOT NULL,
                    updated_at INTEGER NOT NULL
                ) WITHOUT ROWID;

                -- Every version of every record, with its source and reason (Article 38).
                CREATE TABLE record_version (
                    record_key TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    operation TEXT NOT NULL,
                    origin_node TEXT NOT NULL,
                    origin_sequence INTEGER NOT NULL,
                    hub_position INTEGER,
                    credential TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    decision_document TEXT NOT NULL,
                    effective_at INTEGER NOT NULL,
                    accepted_at INTEGER NOT NULL,
                    catalog_version TEXT NOT NULL,
                    content_hash BLOB NOT NULL,
                    -- The record as the hub sent it, compressed (StoredPayload); empty for a version
                    -- whose record is in this node's log, and for a revocation.
                    payload BLOB NOT NULL,
                    PRIMARY KEY (record_key, version)
                );
                -- Corrections and revocations by origin: the node's own that the hub has not
                -- acknowledged are the Article 41 windows only the node can see (the hub opens
                -- a window when it receives one). Partial, so a create costs nothing here.
                CREATE INDEX record_version_corrections ON record_version(origin_node, origin_sequence)
                    WHERE operation IN ('correct', 'revoke');

                -- Article 19 and 33: records by subject, including responsible persons.
                CREATE TABLE subject_index (
                    subject_key TEXT NOT NULL,
                    record_key TEXT NOT NULL,
                    role TEXT NOT NULL,
                    PRIMARY KEY (subject_key, record_key, role)
                ) WITHOUT ROWID;
                -- New subject entries land here first and are folded into subject_index in bulk:
                -- subject keys are random, so filing each straight into the big index rewrote
                -- most of its pages at every commit. Queries read both tables.
                CREATE TABLE subject_index_recent (
                    record_key TEXT NOT NULL,
                    subject_key TEXT NOT NULL,
                    role TEXT NOT NULL,
                    PRIMARY KEY (record_key, subject_key, role)
                ) WITHOUT ROWID;

                -- The hub's signed receipts, one per acknowledged change set.
                CREATE TABLE receipt (
                    last INTEGER PRIMARY KEY,
                    first INTEGER NOT NULL,
                    tree_size INTEGER NOT NULL,
                    tree_root BLOB NOT NULL,
                    envelope BLOB NOT NULL,
                    received_at INTEGER NOT NULL
                );

                -- A signed change set persisted before it is sent, so a retry after any crash
                -- resends the same bytes and the hub never sees two sets for one range. Its
                -- changes are log entries first…last; the envelope is rebuilt from them.
                CREATE TABLE outbox (
                    first INTEGER PRIMARY KEY,
                    last INTEGER NOT NULL,
                    key_id TEXT NOT NULL,
                    set_created_at INTEGER NOT NULL,
                    signature BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );

                CREATE TABLE credential (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    secret_hash BLOB NOT NULL,
                    write_items TEXT NOT NULL,
                    read_scope TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );

                -- Article 21: every enquiry, who, which subject, when, why, how many records.
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    credential TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    record_count INTEGER NOT NULL
                );

                -- Hub heads that no consistency proof joins to the one this node pinned before
                -- (Protocol/hub-api.md, Log proofs): the hub rewrote its history or was restored.
                CREATE TABLE hub_history_conflict (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    detected_at INTEGER NOT NULL,
                    pinned_size INTEGER NOT NULL,
                    pinned_root BLOB NOT NULL,
                    seen_size INTEGER NOT NULL,
                    seen_root BLOB NOT NULL,
                    proof BLOB NOT NULL,
                    reason TEXT NOT NULL
                );

                -- Credit subjects' cases (Protocol/rights.md) as the hub decided them, RightsCase as
                -- JSON; and this node's own rights changes the fan-out has not brought back yet.
                -- record_version: the record's version here when the case arrived (an upheld objection
                -- needs a newer one: the correction, Protocol/rights.md §3).
                CREATE TABLE rights_case (id TEXT PRIMARY KEY, record_key TEXT NOT NULL, body TEXT NOT NULL, record_version INTEGER) WITHOUT ROWID;
                CREATE INDEX rights_case_by_record ON rights_case(record_key);
                -- A pending change the hub holds (by its position for this node's log, read before a batch
                -- was asked for) that has not come back once that batch is applied through its hub
                -- head was refused by the hub: it moves to rights_refused (NodeStore+Rights.swift).
                CREATE TABLE rights_pending (
                    sequence INTEGER PRIMARY KEY,
                    record_key TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    event TEXT NOT NULL,
                    record_version INTEGER
                );
                CREATE INDEX rights_pending_by_record ON rights_pending(record_key);
                CREATE TABLE rights_refused (
                    sequence INTEGER PRIMARY KEY,
                    record_key TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    event TEXT NOT NULL,
                    detected_at INTEGER NOT NULL
                );
                CREATE INDEX rights_refused_by_record ON rights_refused(record_key);

                -- This node's record writes the hub refused to merge (Protocol/merge.md §3), filed from
                -- its signed refusal lists (hub-api.md, GET /v1/nodes/{node}/refusals): what a
                -- provider reads at GET /v1/refusals. record_key is "provider/item/recordId".
                CREATE TABLE record_refused (
                    sequence INTEGER PRIMARY KEY,
                    record_key TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    code TEXT NOT NULL,
                    field TEXT NOT NULL,
                    message TEXT NOT NULL,
                    refused_at INTEGER NOT NULL
                );
                CREATE INDEX record_refused_by_record ON record_refused(record_key);

                CREATE TRIGGER log_entry_append_only_u BEFORE UPDATE ON log_entry BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
                CREATE TRIGGER log_entry_append_only_d BEFORE DELETE ON log_entry BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
                CREATE TRIGGER version_append_only_u BEFORE UPDATE ON record_version BEGIN SELECT RAISE(ABORT, 'record history is append-only'); END;
                CREATE TRIGGER version_append_only_d BEFORE DELETE ON record_version BEGIN SELECT RAISE(ABORT, 'record history is append-only'); END;
                CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER hub_history_conflict_u BEFORE UPDATE ON hub_history_conflict BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER hub_history_conflict_d BEFORE DELETE ON hub_history_conflict BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                """)
        }
        return migrator
    }
}


extension NodeStore {
    /// Runs raw SQL on the writer. For tests that prove the store's own guards (append-only
    /// triggers) hold even against direct SQL; the daemon never calls it.
    public func executeForTesting(_ sql: String) throws {
        try writer.write { try $0.execute(sql: sql) }
    }
}
