import Foundation
import GRDB
public import CreditStorage
import Synchronization
import SyncProtocol
public import SyncTransport

/// The provincial store in SQLite (the default backend of ``ProvincialStore``): the node
/// registry, every change set as received (evidence, and the only copy of each change's bytes),
/// the merged records with their routes, conflicts and equivocations, the hub log that is
/// fanned out, and the nodes' fan-out positions.
///
/// WAL mode with `synchronous = FULL` on the writer: a receipt is only signed and sent after the
/// transaction holding the set, its evidence and the merge has committed.
public final class HubStore: Sendable {
    let writer: any DatabaseWriter
    /// Held while a daemon owns the store.
    private let lock: StoreLock?
    private let checkpointer: WALCheckpointer?
    let groupCommit: GroupCommit
    /// The nodes' fan-out positions (served, acknowledged): a small write per request, from
    /// every node of the province after each merge; gathered into one transaction and one
    /// fsync, not one each (with 111 nodes, the fsyncs had been the fan-out's bottleneck).
    let bookkeeping: GroupCommit
    let evidence = EvidenceCache()
    /// The accepted change sets' bytes, in a file beside the database.
    let evidenceLog: EvidenceLog
    /// Each node's acknowledged log size as of the last commit here: where ``ingest`` expects a
    /// node's next set to start, to append its evidence before the transaction (see there).
    let acknowledged: Mutex<[String: UInt64]>
    /// The node registry as last read, with the `registry_version` it was read at.
    let registryCache = Mutex<(version: Int64, keys: KeyRegistry, statuses: [String: String], areas: [String: [String]])?>(nil)
    /// Each node's pending changes as last counted (``lags(now:)``), so the next count reads only
    /// the hub-log rows since.
    let pendingCounts = Mutex<[String: PendingCount]>([:])
    /// Lets a node's pipelined change sets into the writer in log order.
    let sequencer: IngestSequencer
    /// Entries in `subject_index_recent` after which they are folded into `subject_index`.
    let subjectFoldThreshold: Int
    let recentSubjectEntries: Mutex<(count: Int, folding: Bool)>

    /// Opens (creating if needed) the store at `path`; `nil` gives an in-memory store.
    /// - Parameters:
    ///   - role: the daemon takes the store's lock and cuts unreferenced bytes off the evidence
    ///     file; an operator command opens it beside a running daemon and touches neither
    ///     (``StoreRole``). Cutting the file under a running daemon would cut a set it had just
    ///     synced and was about to commit.
    ///   - backgroundCheckpoints: run a ``WALCheckpointer`` beside the writer (the daemon does);
    ///     the simulator turns it off to keep its runs the same from run to run.
    ///   - pipelinePatience: how long a node's change set waits for the sets before it
    ///     (``IngestSequencer``); the simulator, which sends one request at a time, uses zero.
    public init(path: String?, role: StoreRole = .daemon, subjectFoldThreshold: Int = 50_000, backgroundCheckpoints: Bool = true,
                pipelinePatience: Duration = .seconds(10)) throws {
        sequencer = IngestSequencer(patience: pipelinePatience)
        lock = try StoreLock.take(database: path, role: role)
        writer = try SQLiteDatabase.open(path: path)
        try Self.migrator.migrate(writer)
        let referencedEnd = try writer.read { try Int64.fetchOne($0, sql: "SELECT MAX(evidence_offset + evidence_length) FROM changeset") }
        evidenceLog = try EvidenceLog(path: path.map(EvidenceLog.path(besideDatabase:)), referencedEnd: referencedEnd,
                                      cutUnreferenced: role == .daemon)
        acknowledged = Mutex(Dictionary(uniqueKeysWithValues: try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, log_size FROM node").map { ($0[0] as String, UInt64($0[1] as Int64)) }
        }))
        self.subjectFoldThreshold = subjectFoldThreshold
        recentSubjectEntries = Mutex((try writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM subject_index_recent") } ?? 0, false))
        checkpointer = backgroundCheckpoints && role == .daemon ? try path.map { try WALCheckpointer(path: $0) } : nil
        // Four sets per commit. While preparation shared the cores evenly with the writer, a
        // larger group handed out its receipts in one burst and the writer then idled while the
        // nodes' next sets were prepared: 4 beat 16, 8 and 2 in the hub benchmark. With
        // preparation below the writer in priority, 4, 8 and 16 measure alike and 2 is slower.
        groupCommit = GroupCommit(writer: writer, maxWrites: 4)
        bookkeeping = GroupCommit(writer: writer, maxWrites: 256)
    }

    /// Claims the store at `path` for hub `id`, or refuses it when it is another's
    /// (``StoreOwner``): the daemon does, before it serves anything.
    public func claim(hub id: String, path: String) throws {
        try StoreOwner.claim(writer, as: StoreOwner.name(role: "hub", id: id), path: path)
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

    /// The writer's `synchronous` setting (2 is FULL).
    public func synchronousSetting() throws -> Int {
        try SQLiteDatabase.synchronousSetting(writer)
    }

    /// The store's schema. Until a release ships it is changed in place, not migrated: no
    /// deployed store has an older one.
    static var migrator: DatabaseMigrator {
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
                    -- Fan-out position the node has applied: the highest it acknowledged (the
                    -- Article 41 windows close on it).
                    fanout_ack INTEGER NOT NULL DEFAULT 0,
                    -- The position its latest fan-out request or acknowledgement said it has applied:
                    -- lower than fanout_ack once the node was restored from an older backup or reads
                    -- the log again from its start, and then what its lag counts from.
                    fanout_reported INTEGER,
                    fanout_ack_at INTEGER,
                    -- The last hub-log position the hub served the node: no acknowledgement may claim more.
                    fanout_served INTEGER NOT NULL DEFAULT 0,
                    -- Catalog items a node receives new records of; NULL is every item (Article 16).
                    subscription TEXT,
                    -- Division-code prefixes the operator added to the node's providing area
                    -- (Protocol/merge.md §1), comma-separated; empty for the node's own area only.
                    areas TEXT NOT NULL DEFAULT ''
                );
                CREATE TABLE node_key (
                    key_id TEXT PRIMARY KEY,
                    node TEXT NOT NULL REFERENCES node(id),
                    public_key BLOB NOT NULL,
                    status TEXT NOT NULL,
                    added_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );
                -- Counts every change to the node registry, by this daemon or an operator command
                -- beside it: the daemon keeps the registry decoded while the count stands.
                CREATE TABLE registry_version (value INTEGER NOT NULL);
                INSERT INTO registry_version VALUES (0);
                CREATE TRIGGER registry_key_i AFTER INSERT ON node_key BEGIN UPDATE registry_version SET value = value + 1; END;
                CREATE TRIGGER registry_key_u AFTER UPDATE ON node_key BEGIN UPDATE registry_version SET value = value + 1; END;
                CREATE TRIGGER registry_key_d AFTER DELETE ON node_key BEGIN UPDATE registry_version SET value = value + 1; END;
                CREATE TRIGGER registry_node_i AFTER INSERT ON node BEGIN UPDATE registry_version SET value = value + 1; END;
                CREATE TRIGGER registry_node_u AFTER UPDATE OF status, areas ON node BEGIN UPDATE registry_version SET value = value + 1; END;

                -- Evidence: every change set accepted and the receipt the hub signed. The set's
                -- bytes, the only copy of each change's, are in the evidence file beside the
                -- database (EvidenceLog), at evidence_offset.
                CREATE TABLE changeset (
                    node TEXT NOT NULL,
                    first INTEGER NOT NULL,
                    last INTEGER NOT NULL,
                    digest BLOB NOT NULL,
                    receipt BLOB NOT NULL,
                    received_at INTEGER NOT NULL,
                    evidence_offset INTEGER NOT NULL,
                    evidence_length INTEGER NOT NULL,
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
                -- Each equivocating set looks up its node's evidence kept so far: a hostile node's
                -- repeats must not make every lookup read all of it.
                CREATE INDEX equivocation_by_node ON equivocation(node);
                -- Changes the merge refused (Protocol/merge.md §3); their bytes stay in their set's evidence.
                CREATE TABLE refusal (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    node TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    record_key TEXT NOT NULL,
                    code TEXT NOT NULL,
                    field TEXT NOT NULL,
                    message TEXT NOT NULL,
                    received_at INTEGER NOT NULL
                );
                -- A node's refusals in its log's order: what GET /v1/nodes/{node}/refusals reads.
                CREATE INDEX refusal_by_node ON refusal(node, sequence);

                -- Arrivals that changed nothing (a duplicate, or a version superseded before it
                -- arrived); effective changes are in hub_log.
                CREATE TABLE route (
                    node TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    record_key TEXT NOT NULL,
                    content_hash BLOB NOT NULL,
                    effect TEXT NOT NULL,
                    PRIMARY KEY (node, sequence)
                ) WITHOUT ROWID;
                CREATE INDEX route_by_record ON route(record_key);

                -- The hub log: every effective change, in the order merged, fanned out to the nodes.
                CREATE TABLE hub_log (
                    position INTEGER PRIMARY KEY,
                    node TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    record_key TEXT NOT NULL,
                    item TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    -- 1 when the entry logs a record's current version again after a refused change, 2 for
                    -- a new version of a record re-asserted before (Protocol/merge.md §4): either goes to
                    -- every node, its origin included, whatever its subscription.
                    reassert INTEGER NOT NULL DEFAULT 0,
                    -- When the origin node acknowledged the change to its provider (ms; 0 for a
                    -- re-assertion): where the replication latency and lag are measured from.
                    accepted_at INTEGER NOT NULL DEFAULT 0
                );
                -- The hub log's Merkle tree: the hash of every perfect subtree (Protocol/sync.md §8),
                -- keyed level << 56 | index, so that inclusion and consistency proofs cost
                -- O(log² n) reads at any size. Leaves are level 0.
                CREATE TABLE hub_tree (node INTEGER PRIMARY KEY, hash BLOB NOT NULL);

                -- The merged records. The merge writes three or four rows per change: this one,
                -- the hub-log entry, its tree leaf and the subject-index entries.
                CREATE TABLE record (
                    -- provider/item/recordId
                    record_key TEXT PRIMARY KEY,
                    -- A short stable id for the subject index: the hub-log position of the first version.
                    id INTEGER NOT NULL,
                    item TEXT NOT NULL,
                    subject_key TEXT NOT NULL,
                    -- Article 33 persons as "key<TAB>role" lines, to update the subject index.
                    persons TEXT NOT NULL,
                    -- The nodes the current content arrived through, comma-separated, sorted.
                    routes TEXT NOT NULL,
                    -- The hub-log positions of every version, oldest first, comma-separated.
                    history TEXT NOT NULL,
                    status TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    content_hash BLOB NOT NULL,
                    origin_node TEXT NOT NULL,
                    origin_sequence INTEGER NOT NULL,
                    effective_at INTEGER NOT NULL,
                    accepted_at INTEGER NOT NULL,
                    hub_position INTEGER NOT NULL,
                    -- 1 once the record was re-asserted.
                    contested INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE UNIQUE INDEX record_by_id ON record(id);

                -- Keyed by the record's integer id: a subject index keyed by the long record key
                -- costs more to keep than everything else the merge writes.
                CREATE TABLE subject_index (
                    subject_key TEXT NOT NULL,
                    record_id INTEGER NOT NULL,
                    role TEXT NOT NULL,
                    PRIMARY KEY (subject_key, record_id, role)
                ) WITHOUT ROWID;
                -- New entries land here first, in record-id order (appended, not scattered over
                -- the index), and are folded into subject_index in bulk: keys are random, so
                -- filing each change straight into the big index rewrote most of its pages at
                -- every commit. Queries read both tables.
                CREATE TABLE subject_index_recent (
                    record_id INTEGER NOT NULL,
                    subject_key TEXT NOT NULL,
                    role TEXT NOT NULL,
                    PRIMARY KEY (record_id, subject_key, role)
                ) WITHOUT ROWID;

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
                CREATE INDEX correction_received ON correction(received_at);

                -- Credit subjects' applications (Protocol/rights.md): each case as the hub decided it
                -- (RightsCase as JSON), and the hub-log positions whose acknowledgement by every
                -- active node meets a window: the objection label's, and the granted restoration's.
                CREATE TABLE rights_case (
                    id TEXT PRIMARY KEY,
                    record_key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    closed INTEGER NOT NULL,
                    opened_at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    label_position INTEGER,
                    label_completed_at INTEGER,
                    grant_position INTEGER,
                    grant_completed_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX rights_case_by_record ON rights_case(record_key);
                CREATE INDEX rights_case_open ON rights_case(closed, received_at);
                -- The windows every node's acknowledgement may close: each acknowledgement looks for
                -- them, so it reads the few still waiting rather than every case the hub ever had.
                CREATE INDEX rights_case_label_waiting ON rights_case(label_position)
                    WHERE label_completed_at IS NULL AND label_position IS NOT NULL;
                CREATE INDEX rights_case_grant_waiting ON rights_case(grant_position)
                    WHERE grant_completed_at IS NULL AND grant_position IS NOT NULL;
                -- Windows fixed late are listed by when they closed (HubStore.rightsCases(openOrClosedSince:)).
                CREATE INDEX rights_case_label_done ON rights_case(label_completed_at) WHERE label_completed_at IS NOT NULL;
                CREATE INDEX rights_case_grant_done ON rights_case(grant_completed_at) WHERE grant_completed_at IS NOT NULL;

                -- Hub heads nodes reported pinned that this log does not contain (Protocol/hub-api.md):
                -- the hub showed some node another history, or was restored from an older backup.
                CREATE TABLE fork_report (
                    node TEXT NOT NULL,
                    pinned_size INTEGER NOT NULL,
                    pinned_root BLOB NOT NULL,
                    hub_size INTEGER NOT NULL,
                    reported_at INTEGER NOT NULL,
                    PRIMARY KEY (node, pinned_size, pinned_root)
                ) WITHOUT ROWID;
                -- What operators did to the registry and the conflicts, with who and when; the
                -- running hub logs each new row (AdminActionLog).
                CREATE TABLE admin_action (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                -- Counts operators read on every status and scrape, kept as the merge writes.
                CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO counter VALUES ('records', 0);

                CREATE TRIGGER changeset_evidence_u BEFORE UPDATE ON changeset BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER changeset_evidence_d BEFORE DELETE ON changeset BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER equivocation_evidence_d BEFORE DELETE ON equivocation BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER refusal_evidence_u BEFORE UPDATE ON refusal BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER refusal_evidence_d BEFORE DELETE ON refusal BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
                CREATE TRIGGER hub_log_append_only_u BEFORE UPDATE ON hub_log BEGIN SELECT RAISE(ABORT, 'the hub log is append-only'); END;
                CREATE TRIGGER hub_log_append_only_d BEFORE DELETE ON hub_log BEGIN SELECT RAISE(ABORT, 'the hub log is append-only'); END;
                CREATE TRIGGER hub_tree_append_only_u BEFORE UPDATE ON hub_tree BEGIN SELECT RAISE(ABORT, 'the hub log is append-only'); END;
                CREATE TRIGGER hub_tree_append_only_d BEFORE DELETE ON hub_tree BEGIN SELECT RAISE(ABORT, 'the hub log is append-only'); END;
                CREATE TRIGGER admin_action_u BEFORE UPDATE ON admin_action BEGIN SELECT RAISE(ABORT, 'the admin log is append-only'); END;
                CREATE TRIGGER admin_action_d BEFORE DELETE ON admin_action BEGIN SELECT RAISE(ABORT, 'the admin log is append-only'); END;
                """)
        }
        return migrator
    }
}


extension Database {
    // The statements of every request (a fan-out batch, an acknowledgement, a signed request's
    // registry check) are cached: with a province of nodes each woken for a few changes,
    // compiling them again, GRDB's authorizer watching every column, cost the hub more than
    // running them.
    func hubMeta(_ key: String) throws -> Data? {
        try Data.fetchOne(try cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
    }

    func setHubMeta(_ key: String, _ value: Data) throws {
        try cachedStatement(sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(arguments: [key, value])
    }

    func hubFrontier() throws -> MerkleFrontier {
        guard let data = try hubMeta("hub.frontier") else { return MerkleFrontier() }
        return try MerkleFrontier(encoded: Array(data))
    }

    /// The frontier of `node`'s log as the hub holds it (its position), `nil` for an unknown node.
    func nodeLogFrontier(_ node: String) throws -> MerkleFrontier? {
        try Data.fetchOne(self, sql: "SELECT log_frontier FROM node WHERE id = ?", arguments: [node]).map { try MerkleFrontier(encoded: Array($0)) }
    }
}

extension HubStore {
    /// The state digest of the hub's records (`Protocol/merge.md` §5).
    public func stateDigest() throws -> (digest: String, records: Int) {
        try writer.read { try StateDigest.compute($0) }
    }

    /// The hub log's entries after `after`, at most `limit`: where each change came from,
    /// whether it re-asserts a current version, and whether it goes to its origin too
    /// (`Protocol/merge.md` §4).
    public func hubLog(after: UInt64 = 0, limit: Int = 1000)
        throws -> [(position: UInt64, node: String, sequence: UInt64, reassert: Bool, toOrigin: Bool)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT position, node, sequence, reassert FROM hub_log WHERE position > ? ORDER BY position LIMIT ?",
                             arguments: [Int64(after), limit]).map {
                (UInt64($0[0] as Int64), $0[1], UInt64($0[2] as Int64), ($0[3] as Int64) == HubLogKind.reassertion.rawValue,
                 ($0[3] as Int64) != HubLogKind.effective.rawValue)
            }
        }
    }

    /// `node`'s refused changes after sequence `after`, in sequence order, at most `limit`, read
    /// in one transaction with the node's position, which covers only merged changes (a set's
    /// refusals commit with the position that covers them): `through` is the position, or the
    /// last sequence listed when `limit` of them are. `nil` for a node the hub does not know.
    public func refusalList(node: String, after: UInt64, limit: Int) throws -> (position: HubPosition, through: UInt64, refusals: [RefusalList.Refusal])? {
        try writer.read { db in
            guard let frontier = try db.nodeLogFrontier(node) else { return nil }
            let rows = try Row.fetchAll(db, sql: """
                SELECT sequence, record_key, code, field, message, received_at FROM refusal
                WHERE node = ? AND sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?
                """, arguments: [node, Int64(clamping: after), Int64(clamping: frontier.size), limit])
            let refusals = rows.map {
                RefusalList.Refusal(sequence: UInt64($0["sequence"] as Int64), recordKey: $0["record_key"], code: $0["code"],
                                    field: $0["field"], message: $0["message"], receivedAt: UInt64(max(0, $0["received_at"] as Int64)))
            }
            let through = refusals.count == limit ? refusals[refusals.count - 1].sequence : frontier.size
            return (HubPosition(acknowledged: frontier.size, treeRoot: frontier.root.hex), through, refusals)
        }
    }

    /// The most recent refused changes, newest first.
    public func refusals(limit: Int = 200) throws -> [ChangeRefusal] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM refusal ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
                ChangeRefusal(node: $0["node"], sequence: UInt64($0["sequence"] as Int64), recordKey: $0["record_key"], code: $0["code"],
                                 field: $0["field"], message: $0["message"], receivedAt: Self.date($0["received_at"]))
            }
        }
    }
}
