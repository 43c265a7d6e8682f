public import GRDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the node's and the hub's stores open SQLite, in one place so that both keep the same
/// durability guarantees.
public enum SQLiteDatabase {
    /// A WAL database pool at `path` with `synchronous = FULL` on the writer, or an in-memory
    /// queue with the same configuration when `path` is `nil` (tests).
    ///
    /// GRDB sets `synchronous = NORMAL` when it enables WAL, after the configuration hooks run, so
    /// FULL is set afterwards: an acknowledged write then survives power loss. A 64 MiB page cache
    /// keeps a whole batch's pages in memory until its commit. Stores that write continuously run
    /// a ``WALCheckpointer`` beside the writer.
    public static func open(path: String?) throws -> any DatabaseWriter {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = \(pageSize)") }
        guard let path else { return try DatabaseQueue(configuration: config) }
        try PrivateFile.create(path)
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            try pool.writeWithoutTransaction {
                try $0.execute(sql: """
                    PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = \(autocheckpointPages);
                    PRAGMA journal_size_limit = \(walSizeLimit)
                    """)
            }
            return pool
        } catch {
            // SQLite says "unable to open database file" and no more: name the file, and the
            // usual cause (a store made by an operator command run as root, which the daemon's
            // user cannot open).
            throw StoreFileError(description: "cannot open the store \(path): \(error)\(PrivateFile.ownershipProblem(RestoreStaging.files(of: path).reversed()) ?? "")")
        }
    }

    /// The page size of a new store. Change sets are stored whole as evidence (up to a megabyte
    /// each); with 16 KiB pages they take a quarter of the pages, log frames and checksums that
    /// 4 KiB pages would. An existing store keeps the page size it was created with.
    public static let pageSize = 16_384

    /// The writer checkpoints by itself only past this many log pages (156 MiB of 16 KiB pages):
    /// normally a ``WALCheckpointer`` has done it long before.
    public static let autocheckpointPages = 10_000

    /// The write-ahead log is cut back to this size (32 MiB) when it starts over after a
    /// checkpoint: a burst must not leave a store's log file at its largest for good.
    public static let walSizeLimit = 32 << 20

    /// The writer connection's `synchronous` setting (2 is FULL).
    public static func synchronousSetting(_ writer: any DatabaseWriter) throws -> Int {
        try writer.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }
}

/// A store file that could not be created, naming it.
public struct StoreFileError: Error, CustomStringConvertible {
    public var description: String
}
