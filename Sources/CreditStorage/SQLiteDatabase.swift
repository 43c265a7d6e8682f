public import GRDB

/// How the node's and the hub's stores open SQLite, in one place so that both keep the same
/// durability guarantees.
public enum SQLiteDatabase {
    /// A WAL database pool at `path` with `synchronous = FULL` on the writer, or an in-memory
    /// queue with the same configuration when `path` is `nil` (tests).
    ///
    /// GRDB sets `synchronous = NORMAL` when it enables WAL, after the configuration hooks run, so
    /// FULL is set afterwards: an acknowledged write then survives power loss. A 64 MiB page cache
    /// keeps a whole batch's pages in memory until its commit.
    public static func open(path: String?) throws -> any DatabaseWriter {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        guard let path else { return try DatabaseQueue(configuration: config) }
        let pool = try DatabasePool(path: path, configuration: config)
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536") }
        return pool
    }

    /// The writer connection's `synchronous` setting (2 is FULL).
    public static func synchronousSetting(_ writer: any DatabaseWriter) throws -> Int {
        try writer.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }
}
