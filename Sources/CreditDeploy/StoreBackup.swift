public import Foundation
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

    /// Copies the store at `source` to `destination` (which must not exist) while its daemon runs.
    public static func backup(from source: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else { throw FederationError("no store at \(source)") }
        guard !FileManager.default.fileExists(atPath: destination) else { throw FederationError("\(destination) exists; choose a new file") }
        var config = Configuration()
        config.readonly = true
        let from = try DatabaseQueue(path: source, configuration: config)
        let to = try DatabaseQueue(path: destination)
        try from.backup(to: to)
        return try summary(to, path: destination)
    }

    /// Replaces the store at `database` with the backup at `backup`. The daemon must be stopped.
    /// A node store is marked restored: on its next start it takes back from the hub what it had
    /// pushed after the backup was taken before it accepts new writes.
    public static func restore(backup: String, to database: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: backup) else { throw FederationError("no backup at \(backup)") }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
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
            let integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "?"
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            return Summary(kind: kind, bytes: bytes, integrity: integrity)
        }
    }
}
