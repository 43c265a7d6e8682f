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
        try createPrivately(path)
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
            throw StoreFileError(description: "cannot open the store \(path): \(error)\(ownershipProblem(path) ?? "")")
        }
    }

    /// The first of a store's files (or its directory) that this process may not write, said
    /// with its owner and mode and who this process runs as; `nil` when there is none.
    static func ownershipProblem(_ path: String) -> String? {
        let parent = (path as NSString).deletingLastPathComponent
        for file in [path, path + "-wal", path + "-shm", parent.isEmpty ? "." : parent] {
            var info = stat()
            guard stat(file, &info) == 0, access(file, W_OK) != 0 else { continue }
            func user(_ uid: uid_t) -> String { getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(uid)" }
            return "; \(file) belongs to \(user(info.st_uid)) (mode \(String(info.st_mode & 0o7777, radix: 8))) and this process runs as "
                + "\(user(geteuid())), who may not write it: a store's files belong to the user its daemon runs as "
                + "(chown creditsync: \(path)* for the shipped units), and operator commands run as that user"
        }
        return nil
    }

    /// Creates the store file at `path`, empty and readable by its owner only, unless it exists;
    /// made by root in a directory someone else owns, it is that owner's.
    /// SQLite gives its write-ahead log and shared-memory files the mode of the database file, so
    /// the whole store is private to the daemon's user whatever the umask of whoever created it
    /// (a store holds every credit record of its city or of the province).
    static func createPrivately(_ path: String) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            defer { close(fd) }
            // An operator command run as root (`node provider add` before the daemon's first
            // start) would make a store the daemon's user cannot open: a new store is its
            // directory's owner's, as the restore's files are. SQLite itself, running as root,
            // gives its log files the database file's owner.
            let parent = (path as NSString).deletingLastPathComponent
            var directory = stat()
            if geteuid() == 0, stat(parent.isEmpty ? "." : parent, &directory) == 0, directory.st_uid != 0,
               fchown(fd, directory.st_uid, directory.st_gid) != 0 {
                throw StoreFileError(description: "cannot give the new store \(path) to its directory's owner (uid \(directory.st_uid)): "
                                     + String(cString: strerror(errno)))
            }
            return
        }
        let code = errno
        guard code != EEXIST else { return }
        throw StoreFileError(description: "cannot create the store \(path): \(String(cString: strerror(code)))"
            + (code == ENOENT ? " (create its directory first, owned by the user the daemon runs as)" : ""))
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
