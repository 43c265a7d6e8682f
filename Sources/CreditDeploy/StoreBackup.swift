public import Foundation
import CreditHub
import GRDB

/// Consistent copies of a running node's or hub's store with SQLite's online backup API (never
/// a file copy, which could catch a WAL file mid-write), and their restore.
public enum StoreBackup {
    /// What a backup or restore found.
    public struct Summary: Sendable {
        public var kind: String
        public var bytes: Int
        public var integrity: String
    }

    /// Copies the store at `source` to `destination` (which must not exist) while its daemon runs,
    /// with a hub's evidence file (`<destination>-evidence`).
    public static func backup(from source: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else { throw FederationError("no store at \(source)") }
        guard !FileManager.default.fileExists(atPath: destination) else { throw FederationError("\(destination) exists; choose a new file") }
        var config = Configuration()
        config.readonly = true
        // The daemon's writer or checkpointer may hold a lock for a moment: wait for it rather
        // than fail ("database is locked") on opening.
        config.busyMode = .timeout(10)
        let from = try DatabaseQueue(path: source, configuration: config)
        let to = try DatabaseQueue(path: destination)
        try from.backup(to: to)
        // A hub keeps accepted change sets in a file beside its database. Copied after the
        // database: the file only grows, so it holds every set the copied rows reference.
        let evidence = EvidenceLog.path(besideDatabase: source)
        if FileManager.default.fileExists(atPath: evidence) {
            try FileManager.default.copyItem(atPath: evidence, toPath: EvidenceLog.path(besideDatabase: destination))
        }
        return try summary(to, path: destination)
    }

    /// Replaces the store at `database` (and a hub's evidence file) with the backup at `backup`.
    /// The daemon must be stopped.
    /// A node store is marked restored: on its next start it takes back from the hub what it had
    /// pushed after the backup was taken before it accepts new writes.
    public static func restore(backup: String, to database: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: backup) else { throw FederationError("no backup at \(backup)") }
        for path in ["", "-wal", "-shm"].map({ database + $0 }) + [EvidenceLog.path(besideDatabase: database)] {
            try? FileManager.default.removeItem(atPath: path)
        }
        let evidence = EvidenceLog.path(besideDatabase: backup)
        if FileManager.default.fileExists(atPath: evidence) {
            try FileManager.default.copyItem(atPath: evidence, toPath: EvidenceLog.path(besideDatabase: database))
        }
        var config = Configuration()
        config.readonly = true
        let from = try DatabaseQueue(path: backup, configuration: config)
        // A database in WAL mode only takes a backup of its own page size, so the new store gets
        // the backup's before WAL mode is switched on.
        let pageSize = try from.read { try Int.fetchOne($0, sql: "PRAGMA page_size") ?? 4096 }
        var target = Configuration()
        target.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = \(pageSize)") }
        let to = try DatabasePool(path: database, configuration: target)
        try from.backup(to: to)
        try to.write { db in
            if try db.tableExists("log_entry") {
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('restore.pending', CAST('1' AS BLOB)) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            }
        }
        return try summary(to, path: database)
    }

    static func summary(_ db: some DatabaseReader, path: String) throws -> Summary {
        try db.read { db in
            let kind = try db.tableExists("log_entry") ? "node" : try db.tableExists("hub_log") ? "hub" : "unknown"
            var integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "?"
            var bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if kind == "hub", integrity == "ok" {
                let evidence = EvidenceLog.path(besideDatabase: path)
                bytes += (try? FileManager.default.attributesOfItem(atPath: evidence)[.size] as? Int) ?? 0
                integrity = try checkEvidence(db, path: evidence)
            }
            return Summary(kind: kind, bytes: bytes, integrity: integrity)
        }
    }

    /// Every change set a hub store references in its evidence file is there, byte for byte
    /// (its SHA-256 is the one the store recorded): "ok", or what is wrong.
    static func checkEvidence(_ db: Database, path: String) throws -> String {
        let rows = try Row.fetchAll(db, sql: """
            SELECT node, first, evidence_offset, evidence_length, digest FROM changeset WHERE evidence_offset IS NOT NULL ORDER BY evidence_offset
            """)
        guard let last = rows.last else { return "ok" }
        let log: EvidenceLog
        do {
            log = try EvidenceLog(path: path, referencedEnd: (last[2] as Int64) + (last[3] as Int64))
        } catch {
            return "\(error)"
        }
        do {
            for row in rows {
                _ = try log.read(EvidenceLog.Location(offset: row[2], length: row[3]), digest: row[4],
                                 of: "node \(row[0] as String)'s change set at \(row[1] as Int64)")
            }
        } catch let failure as EvidenceLog.Failure where failure.isDigestMismatch {
            return failure.description
        }
        return "ok"
    }
}
