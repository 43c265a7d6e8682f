import Foundation
import Synchronization

/// Who opens a store, and so what opening it may do.
///
/// Exactly one daemon owns a store: it holds the store's lock (``StoreLock``) for as long as it
/// runs, tidies the store on opening (a hub cuts evidence bytes no committed row references off
/// its evidence file) and checkpoints it. Operator commands (`hub node add`, `node provider add`,
/// reports, backups) open it beside a running daemon as an operator: they neither take the lock
/// nor tidy anything, and write only in ordinary SQLite transactions, which SQLite serializes
/// with the daemon's.
public enum StoreRole: Sendable {
    case daemon
    case `operator`
}

/// The lock a daemon holds on its store (`STORE.lock`, an `flock`), so that a second daemon, or a
/// restore, cannot open the store under it. The kernel drops the lock when the process dies, so
/// a `kill -9` or a power loss leaves no stale lock behind.
public final class StoreLock: Sendable {
    public struct Held: Error, CustomStringConvertible {
        public var description: String
    }

    private let descriptor: Mutex<Int32>

    /// The lock file of the store at `database`.
    public static func path(for database: String) -> String { database + ".lock" }

    /// Takes the lock of the store at `database`, or throws ``Held`` naming the process that has it.
    public init(database: String) throws {
        let path = Self.path(for: database)
        try PrivateFile.create(path)
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw Held(description: "cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        // A lock just let go can still be held for a moment by a child process another thread
        // forked, between its fork and its exec (the descriptor is close-on-exec): a second try
        // within a second tells that apart from a daemon that holds it.
        var tries = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            tries += 1
            guard tries < 50 else {
                var holder = [UInt8](repeating: 0, count: 32)
                let n = pread(fd, &holder, holder.count, 0)
                close(fd)
                let pid = n > 0 ? String(decoding: holder.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
                throw Held(description: "the store \(database) is in use by another creditsync process (pid \(pid)); stop that daemon first")
            }
            usleep(20_000)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        descriptor = Mutex(fd)
    }

    /// What opening the store at `database` (in memory when `nil`) holds for `role`: the daemon
    /// its lock, an operator's command nothing. Neither opens, nor makes, a store that a restore
    /// left part way (``RestoreStaging``).
    public static func take(database: String?, role: StoreRole) throws -> StoreLock? {
        guard let database else { return nil }
        guard role == .daemon else {
            try RestoreStaging.checkNoInterruptedRestore(database: database)
            return nil
        }
        let lock = try StoreLock(database: database)
        do { try RestoreStaging.checkNoInterruptedRestore(database: database) } catch {
            lock.release()
            throw error
        }
        return lock
    }

    /// Lets the lock go (closing the store does).
    public func release() {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    deinit { release() }
}
