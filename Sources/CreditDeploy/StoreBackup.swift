import Foundation
import CreditHub
import CreditStorage
import GRDB

/// Consistent copies of a running node's or hub's store with SQLite's online backup API (never
/// a file copy, which could catch a WAL file mid-write), and their restore.
public enum StoreBackup {
    /// What a backup or restore found.
    public struct Summary: Sendable {
        public var kind: String
        public var bytes: Int
        public var integrity: String
        /// Whose store it is (``StoreOwner``: `node 360100`), `nil` when its daemon never started.
        public var owner: String? = nil
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
        // A backup holds credit records and credential hashes: readable by its owner alone, from
        // its first byte.
        guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw FederationError("cannot create \(destination)")
        }
        let to = try DatabaseQueue(path: destination)
        try from.backup(to: to)
        // One self-contained file (the copy came in WAL mode): checking or restoring it later
        // writes nothing beside it, so it can be read from read-only media.
        try to.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
        // A hub keeps accepted change sets in a file beside its database. Copied after the
        // database: the file only grows, so it holds every set the copied rows reference.
        let evidence = EvidenceLog.path(besideDatabase: source)
        if FileManager.default.fileExists(atPath: evidence) {
            let copy = EvidenceLog.path(besideDatabase: destination)
            try FileManager.default.copyItem(atPath: evidence, toPath: copy)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: copy)
            try Self.sync(copy)
        }
        let parent = (destination as NSString).deletingLastPathComponent
        try Self.sync(parent.isEmpty ? "." : parent)
        return try summary(to, path: destination)
    }

    /// Replaces the store at `database` (and a hub's evidence file) with the backup at `backup`.
    ///
    /// Nothing of the store is touched until the backup has been checked (SQLite's integrity
    /// check, and every change set a hub backup references against its digest): a backup that
    /// is not a store, is cut short or is the store itself is refused and the store stays as it
    /// was. The store's lock (``StoreLock``) is held throughout, so a running daemon makes the
    /// restore refuse, and no daemon can start in the middle of it. The new store is built beside
    /// the old one, moved into place by renaming, and the old files are removed only once the new
    /// store opens and checks.
    ///
    /// A node store is marked restored: on its next start it takes back from the hub what it had
    /// pushed after the backup was taken before it accepts new writes.
    ///
    /// A restore that dies part way leaves files that make the daemons refuse the store
    /// (``RestoreStaging``) until the same restore, run again, finishes it.
    public static func restore(backup: String, to database: String) throws -> Summary {
        try restore(backup: backup, to: database, step: { _ in })
    }

    /// ``restore(backup:to:)`` with `step` called before each step of the swap, named: a test
    /// throws from it to leave the files as a restore killed at that step would.
    static func restore(backup: String, to database: String, step: (String) throws -> Void) throws -> Summary {
        let files = FileManager.default
        guard files.fileExists(atPath: backup) else { throw FederationError("no backup at \(backup)") }
        if let a = try? files.attributesOfItem(atPath: backup), let b = try? files.attributesOfItem(atPath: database),
           a[.systemFileNumber] as? UInt64 == b[.systemFileNumber] as? UInt64, a[.systemNumber] as? UInt64 == b[.systemNumber] as? UInt64 {
            throw FederationError("\(backup) is the store itself, not a backup of it; nothing was changed")
        }
        let lock: StoreLock
        do { lock = try StoreLock(database: database) } catch { throw FederationError("cannot restore: \(error)") }
        defer { lock.release() }

        let parent = (database as NSString).deletingLastPathComponent, directory = parent.isEmpty ? "." : parent
        let staging = RestoreStaging.staging(for: database), aside = RestoreStaging.aside(for: database)
        let parts = RestoreStaging.files(of:)
        let swapping = RestoreStaging.swapMarker(for: database)
        /// Writes the swap's marker, on disk before what it covers.
        func markTheSwap() throws {
            guard files.createFile(atPath: swapping, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw FederationError("cannot create \(swapping)")
            }
            try Self.sync(directory)
        }
        // Puts the old store back from aside, under the swap's marker: every file aside is the
        // old store's (the marker is written only once older leftovers are gone), and the file of
        // that name in place, if any, is the new store's, moved in before the crash.
        func putTheOldStoreBack() throws {
            if !files.fileExists(atPath: swapping) { try markTheSwap() }
            for (from, to) in zip(parts(aside), parts(database)).reversed() where files.fileExists(atPath: from) {
                if files.fileExists(atPath: to) { try files.removeItem(atPath: to) }
                try files.moveItem(atPath: from, toPath: to)
            }
            try Self.sync(directory)
            try files.removeItem(atPath: swapping)
            try Self.sync(directory)
        }
        // A restore that died in its swap: the old store goes back first, so that whatever this
        // run meets, the store is whole.
        if files.fileExists(atPath: swapping) { try putTheOldStoreBack() }

        // 1. The backup, checked before anything is touched.
        // A backup killed before it finished leaves its rollback journal beside it: it is a copy
        // half made, and SQLite could only open it to roll it back.
        if files.fileExists(atPath: backup + "-journal") {
            throw FederationError("\(backup) is an unfinished backup (\(backup)-journal is beside it: the backup was interrupted); "
                                  + "make a new one. The store was not touched")
        }
        let checked: Summary
        do {
            var readOnly = Configuration()
            readOnly.readonly = true
            checked = try summary(try DatabaseQueue(path: backup, configuration: readOnly), path: backup)
        } catch {
            throw FederationError("\(backup) is not a usable backup (\(error)); the store was not touched")
        }
        guard checked.kind != "unknown" else {
            throw FederationError("\(backup) is not a backup of a creditsync store (it holds neither a node's log nor a hub's); the store was not touched")
        }
        guard checked.integrity == "ok" else {
            throw FederationError("\(backup) is not a usable \(checked.kind) backup: \(checked.integrity); the store was not touched")
        }
        // A node's backup goes in its own node's place, a hub's in the hub's: with a backup of
        // each of a hundred nodes, one put in another's place would push one node's log as
        // another's. (A store its daemon never started has no owner yet, and a new machine no
        // store: those take any backup of their kind. A store that cannot be read at all, often
        // the reason for the restore, takes any backup: nothing in it says whose it was.)
        if files.fileExists(atPath: database), let held = try? identity(of: database), held.kind != "unknown" {
            guard held.kind == checked.kind else {
                throw FederationError("\(backup) is a \(checked.kind)'s backup\(checked.owner.map { " (\($0))" } ?? "") and \(database) is a "
                                      + "\(held.kind)'s store\(held.owner.map { " (\($0))" } ?? ""): restore a \(held.kind)'s own backup; the store was not touched")
            }
            if let mine = held.owner, let theirs = checked.owner, mine != theirs {
                throw FederationError("\(backup) is \(theirs)'s backup and \(database) is \(mine)'s store: restore \(mine)'s own backup; "
                                      + "the store was not touched")
            }
        }

        // Whose the restored files are: the old store's owner, or, when that is root (a store an
        // earlier restore as root left so) or there is none, its directory's. Run as root, the
        // files made below would be root's, 0600, and the daemon (`User=creditsync` in the
        // shipped units) could not open its own store: they are given back before the swap.
        let owner = Self.owner(of: database).flatMap { $0.uid == 0 ? nil : $0 } ?? Self.owner(of: directory)
        func giveBack(_ paths: [String]) throws {
            guard geteuid() == 0, let owner else { return }
            for path in paths where files.fileExists(atPath: path) {
                guard chown(path, owner.uid, owner.gid) == 0 else {
                    throw FederationError("cannot give \(path) to the store's owner (uid \(owner.uid)): \(String(cString: strerror(errno)))")
                }
            }
        }

        // 2. The new store, built beside the old one.
        for path in parts(staging) { try? files.removeItem(atPath: path) }
        let evidence = EvidenceLog.path(besideDatabase: backup)
        if files.fileExists(atPath: evidence) {
            try files.copyItem(atPath: evidence, toPath: EvidenceLog.path(besideDatabase: staging))
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: EvidenceLog.path(besideDatabase: staging))
            // On disk before the swap: the old files go once the new ones are in place, and a
            // power loss then must not leave a hub whose evidence is cut short.
            try Self.sync(EvidenceLog.path(besideDatabase: staging))
        }
        // The restored store is its owner's alone, as the daemon's are under the units' UMask
        // (SQLite gives its log files the database file's mode).
        guard files.createFile(atPath: staging, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw FederationError("cannot create \(staging)")
        }
        do {
            var readOnly = Configuration()
            readOnly.readonly = true
            let from = try DatabaseQueue(path: backup, configuration: readOnly)
            // A database in WAL mode only takes a backup of its own page size, so the new store gets
            // the backup's before WAL mode is switched on.
            let pageSize = try from.read { try Int.fetchOne($0, sql: "PRAGMA page_size") ?? 4096 }
            var target = Configuration()
            target.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = \(pageSize)") }
            let to = try DatabasePool(path: staging, configuration: target)
            try from.backup(to: to)
            try to.write { db in
                if try db.tableExists("log_entry") {
                    try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('restore.pending', CAST('1' AS BLOB)) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                }
            }
            try to.close()
            try Self.sync(staging)
        } catch {
            for path in parts(staging) { try? files.removeItem(atPath: path) }
            throw FederationError("cannot build the restored store (\(error)); the store was not touched")
        }

        // 3. The swap: the old files aside, the new ones in place, by renaming.
        do { try giveBack(parts(staging)) } catch {
            for path in parts(staging) { try? files.removeItem(atPath: path) }
            throw FederationError("\(error); the store was not touched")
        }
        try step("staged")
        // Leftovers of an earlier restore's end go, then the marker that makes every file aside
        // the old store's until the swap is checked (``putTheOldStoreBack()``).
        for path in parts(aside) where files.fileExists(atPath: path) {
            try step("remove \(path)")
            try files.removeItem(atPath: path)
        }
        try Self.sync(directory)
        try markTheSwap()
        for (from, to) in zip(parts(database), parts(aside)) where files.fileExists(atPath: from) {
            try step("move \(from) aside")
            try files.moveItem(atPath: from, toPath: to)
        }
        // The old files aside on disk before the new ones take their names.
        try Self.sync(directory)
        for (from, to) in zip(parts(staging), parts(database)) where files.fileExists(atPath: from) {
            try step("move \(from) in")
            try files.moveItem(atPath: from, toPath: to)
        }
        // The renames on disk before anything of the old store is removed.
        try Self.sync(directory)
        try step("swapped")

        // 4. The new store must open and check; only then do the old files go.
        let restored: Summary
        do {
            var readOnly = Configuration()
            readOnly.readonly = true
            restored = try summary(try DatabaseQueue(path: database, configuration: readOnly), path: database)
            guard restored.integrity == "ok" else { throw FederationError(restored.integrity) }
        } catch {
            do { try putTheOldStoreBack() } catch let failure {
                throw FederationError("the restored store did not open (\(error)), and the old store could not be put back (\(failure)); "
                                      + "run the restore again: it puts the old store back first")
            }
            throw FederationError("the restored store did not open (\(error)); the old store was put back")
        }
        // What opening it made beside it (and the lock, when this run made it), given back too.
        try giveBack(parts(database) + [StoreLock.path(for: database)])
        try step("checked")
        try files.removeItem(atPath: swapping)
        try Self.sync(directory)
        for path in parts(aside) {
            try step("remove \(path)")
            try? files.removeItem(atPath: path)
        }
        return restored
    }

    /// Flushes a file, or a directory's entries (renames, new files), to the disk.
    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FederationError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FederationError("cannot sync \(path) to disk: \(String(cString: strerror(errno)))") }
    }

    /// The owner and group of a file, as `stat` reads them.
    static func owner(of path: String) -> (uid: uid_t, gid: gid_t)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_uid, info.st_gid)
    }

    /// A store's kind and owner, read without checking it: what a restore compares the backup with.
    static func identity(of database: String) throws -> (kind: String, owner: String?) {
        var readOnly = Configuration()
        readOnly.readonly = true
        return try DatabaseQueue(path: database, configuration: readOnly).read { db in
            let kind = try kind(db)
            return (kind, kind == "unknown" ? nil : try StoreOwner.read(db))
        }
    }

    /// "node", "hub" or "unknown", by the log table the store has.
    static func kind(_ db: Database) throws -> String {
        try db.tableExists("log_entry") ? "node" : try db.tableExists("hub_log") ? "hub" : "unknown"
    }

    static func summary(_ db: some DatabaseReader, path: String) throws -> Summary {
        try db.read { db in
            let kind = try kind(db)
            var integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "?"
            var bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            if kind == "hub", integrity == "ok" {
                let evidence = EvidenceLog.path(besideDatabase: path)
                bytes += (try? FileManager.default.attributesOfItem(atPath: evidence)[.size] as? Int) ?? 0
                integrity = try checkEvidence(db, path: evidence)
            }
            return Summary(kind: kind, bytes: bytes, integrity: integrity, owner: kind == "unknown" ? nil : try StoreOwner.read(db))
        }
    }

    /// Every change set a hub store references in its evidence file is there, byte for byte
    /// (its SHA-256 is the one the store recorded): "ok", or what is wrong.
    static func checkEvidence(_ db: Database, path: String) throws -> String {
        let rows = try Row.fetchAll(db, sql: """
            SELECT node, first, evidence_offset, evidence_length, digest FROM changeset ORDER BY evidence_offset
            """)
        guard let last = rows.last else { return "ok" }
        let log: EvidenceLog
        do {
            // A check changes nothing: bytes past the last referenced set stay where they are.
            log = try EvidenceLog(path: path, referencedEnd: (last[2] as Int64) + (last[3] as Int64), cutUnreferenced: false)
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
