public import Foundation
public import GRDB
import CreditStorage
import SyncProtocol

/// The provincial store in SQLite (the default backend of ``ProvincialStore``): the node
/// registry, every change set as received (evidence), every node's changes, the merged records
/// with their routes, conflicts and equivocations, the hub log that is fanned out, and the nodes'
/// fan-out positions.
///
/// WAL mode with `synchronous = FULL` on the writer: a receipt is only signed and sent after the
/// transaction holding the set, its evidence and the merge has committed.
public final class HubStore: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating if needed) the store at `path`; `nil` gives an in-memory store.
    public init(path: String?) throws {
        writer = try SQLiteDatabase.open(path: path)
        try Self.migrator.migrate(writer)
    }

    /// The writer's `synchronous` setting (2 is FULL).
    public func synchronousSetting() throws -> Int {
        try SQLiteDatabase.synchronousSetting(writer)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);

                CREATE TABLE node (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    added_at INTEGER NOT NULL,
                    -- Acknowledged position: the node log the hub holds.
                    log_size INTEGER NOT NULL DEFAULT 0,
                    log_frontier BLOB NOT NULL,
                    pushes INTEGER NOT NULL DEFAULT 0,
                    last_seen INTEGER,
                    -- Fan-out position the node has applied.
                    fanout_ack INTEGER NOT NULL DEFAULT 0,
                    fanout_ack_at INTEGER
                );
                CREATE TABLE node_key (
                    key_id TEXT PRIMARY KEY,
                    node TEXT NOT NULL REFERENCES node(id),
                    public_key BLOB NOT NULL,
                    status TEXT NOT NULL,
                    added_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );

                -- Evidence: every change set exactly as received, and the receipt the hub signed.
                CREATE TABLE changeset (
                    node TEXT NOT NULL,
                    first INTEGER NOT NULL,
                    last INTEGER NOT NULL,
                    digest BLOB NOT NULL,
                    envelope BLOB NOT NULL,
                    receipt BLOB NOT NULL,
                    received_at INTEGER NOT NULL,
                    PRIMARY KEY (node, first)
                );
                CREATE TABLE equivocation (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    node TEXT NOT NULL,
                    first INTEGER NOT NULL,
                    last INTEGER NOT NULL,
                    envelope BLOB NOT NULL,
                    received_at INTEGER NOT NULL
                );

                -- Every change of every node; the routes of a record are its rows here.
                CREATE TABLE node_change (
                    node TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    record_key TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    content_hash BLOB NOT NULL,
                    change BLOB NOT NULL,
                    hub_position INTEGER,
                    PRIMARY KEY (node, sequence)
                );
                CREATE INDEX node_change_by_record ON node_change(record_key);

                -- The hub log: every effective change, in the order merged, fanned out to the nodes.
                CREATE TABLE hub_log (
                    position INTEGER PRIMARY KEY,
                    node TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    record_key TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );

                CREATE TABLE record (
                    record_key TEXT PRIMARY KEY,
                    provider TEXT NOT NULL,
                    item TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    subject_key TEXT NOT NULL,
                    status TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    content_hash BLOB NOT NULL,
                    origin_node TEXT NOT NULL,
                    origin_sequence INTEGER NOT NULL,
                    effective_at INTEGER NOT NULL,
                    accepted_at INTEGER NOT NULL,
                    hub_position INTEGER NOT NULL
                );
                CREATE TABLE subject_index (
                    subject_key TEXT NOT NULL,
                    record_key TEXT NOT NULL,
                    role TEXT NOT NULL,
                    PRIMARY KEY (subject_key, record_key, role)
                ) WITHOUT ROWID;
                CREATE INDEX subject_index_by_record ON subject_index(record_key);

                CREATE TABLE conflict (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    record_key TEXT NOT NULL,
                    winner_node TEXT NOT NULL,
                    winner_sequence INTEGER NOT NULL,
                    loser_node TEXT NOT NULL,
                    loser_sequence INTEGER NOT NULL,
                    detected_at INTEGER NOT NULL,
                    resolved_at INTEGER,
                    resolution TEXT
                );

                -- Article 41: each effective correction or revocation and when every copy was fixed.
                CREATE TABLE correction (
                    hub_position INTEGER PRIMARY KEY,
                    record_key TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    origin_node TEXT NOT NULL,
                    origin_sequence INTEGER NOT NULL,
                    effective_at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    completed_at INTEGER
                );
                CREATE INDEX correction_open ON correction(completed_at);

                CREATE TRIGGER changeset_evidence_u BEFORE UPDATE ON changeset BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER changeset_evidence_d BEFORE DELETE ON changeset BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER equivocation_evidence_d BEFORE DELETE ON equivocation BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER hub_log_append_only_u BEFORE UPDATE ON hub_log BEGIN SELECT RAISE(ABORT, 'the hub log is append-only'); END;
                CREATE TRIGGER hub_log_append_only_d BEFORE DELETE ON hub_log BEGIN SELECT RAISE(ABORT, 'the hub log is append-only'); END;
                """)
        }
        return migrator
    }
}


extension Database {
    func hubMeta(_ key: String) throws -> Data? {
        try Data.fetchOne(self, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    func setHubMeta(_ key: String, _ value: Data) throws {
        try execute(sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [key, value])
    }

    func hubFrontier() throws -> MerkleFrontier {
        guard let data = try hubMeta("hub.frontier") else { return MerkleFrontier() }
        return try MerkleFrontier(encoded: Array(data))
    }
}
