import CreditNode
import CreditStorage
import CreditTesting
import Foundation
import GRDB
import Testing

/// `creditsync restore` from the outside (issue 13): a bad backup, the store itself, or a
/// running daemon is refused with the store untouched; a good backup replaces it.
@Suite struct RestoreTests {
    /// A node store at `path` holding `count` records, closed again.
    func store(at path: String, records count: Int) throws {
        let f = try NodeFixture(node: "360100", path: path, readScope: .all)
        _ = try f.service.submit(f.punishments(0..<count), by: f.identity)
        try f.service.store.close()
    }

    func records(_ path: String) throws -> Int {
        try NodeStore(path: path, role: .operator).stateDigest().records
    }

    @Test func aBadBackupTheStoreItselfOrARunningDaemonIsRefusedAndChangesNothing() async throws {
        let dir = try Fixtures.temporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("node.sqlite").path
        try store(at: db, records: 12)
        let good = dir.appendingPathComponent("good.sqlite").path
        #expect(try await CLI.run(["backup", "--db", db, "--out", good]).status == 0)

        let random = dir.appendingPathComponent("random.sqlite").path
        #expect(FileManager.default.createFile(atPath: random, contents: Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })))
        let half = dir.appendingPathComponent("half.sqlite").path
        let whole = try Data(contentsOf: URL(fileURLWithPath: good))
        #expect(FileManager.default.createFile(atPath: half, contents: whole.prefix(whole.count / 2)))
        // A backup killed part way leaves its rollback journal beside the copy; an empty
        // database is SQLite but no creditsync store.
        let interrupted = dir.appendingPathComponent("interrupted.sqlite").path
        try FileManager.default.copyItem(atPath: good, toPath: interrupted)
        #expect(FileManager.default.createFile(atPath: interrupted + "-journal", contents: Data(repeating: 1, count: 512)))
        let empty = dir.appendingPathComponent("empty.sqlite").path
        _ = try await DatabaseQueue(path: empty).write { try $0.execute(sql: "CREATE TABLE t(x)") }
        for bad in [random, half, db, interrupted, empty] {
            let out = try await CLI.run(["restore", "--backup", bad, "--db", db])
            #expect(out.status == 1, "restoring from \(bad) did not fail: \(out.stdout)")
            #expect(out.stderr.contains("nothing was changed") || out.stderr.contains("not touched"), "\(out.stderr)")
            #expect(try records(db) == 12, "restoring from \(bad) changed the store")
            if bad == interrupted { #expect(out.stderr.contains("unfinished backup"), "\(out.stderr)") }
            if bad == empty { #expect(out.stderr.contains("not a backup of a creditsync store"), "\(out.stderr)") }
        }

        // A daemon holds the store: refused, and the daemon's store is as it was.
        let running = try NodeStore(path: db)
        let refused = try await CLI.run(["restore", "--backup", good, "--db", db])
        #expect(refused.status == 1 && refused.stderr.contains("in use"), "\(refused.stderr)")
        #expect(try running.stateDigest().records == 12)
        try running.close()
    }

    @Test func aGoodBackupReplacesTheStoreAndMarksItRestored() async throws {
        let dir = try Fixtures.temporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("node.sqlite").path
        try store(at: db, records: 5)
        let backup = dir.appendingPathComponent("backup.sqlite").path
        #expect(try await CLI.run(["backup", "--db", db, "--out", backup]).status == 0)
        // The backup is its owner's alone, and one file: nothing is written beside it to read it,
        // so a restore works from read-only media.
        let mode = try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: backup)
        let f = try NodeFixture(node: "360100", path: db, readScope: .all)
        _ = try f.service.submit(f.punishments(5..<9), by: f.identity)
        try f.service.store.close()
        #expect(try records(db) == 9)

        let out = try await CLI.run(["restore", "--backup", backup, "--db", db])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try records(db) == 5)
        #expect(try NodeStore(path: db).isRestorePending())
        #expect(!FileManager.default.fileExists(atPath: db + ".before-restore"))
        #expect(!FileManager.default.fileExists(atPath: db + ".restoring"))
        #expect(!FileManager.default.fileExists(atPath: backup + "-wal") && !FileManager.default.fileExists(atPath: backup + "-shm"))
        #expect(try FileManager.default.attributesOfItem(atPath: db)[.posixPermissions] as? Int == 0o600)
    }

    /// Run as root (as an operator with `sudo` would), a restore gives the new files to the
    /// store's owner: the daemon, `User=creditsync` under the shipped units, could not open
    /// root's 0600 files, and would not start.
    @Test(.enabled(if: geteuid() == 0, "needs root to own files as another user"))
    func aRestoreRunAsRootLeavesTheStoreItsOwners() async throws {
        let dir = try Fixtures.temporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("node.sqlite").path
        try store(at: db, records: 3)
        let backup = dir.appendingPathComponent("backup.sqlite").path
        #expect(try await CLI.run(["backup", "--db", db, "--out", backup]).status == 0)
        // The store as the daemon's user (here `nobody`) left it.
        let daemon: (uid: uid_t, gid: gid_t) = (65_534, 65_534)
        for path in [dir.path, db, StoreLock.path(for: db)] where FileManager.default.fileExists(atPath: path) {
            #expect(chown(path, daemon.uid, daemon.gid) == 0)
        }

        func expectTheDaemons() {
            for path in [db, StoreLock.path(for: db)] {
                var info = stat()
                #expect(stat(path, &info) == 0)
                #expect(info.st_uid == daemon.uid && info.st_gid == daemon.gid, "\(path) is uid \(info.st_uid), not the store's owner")
            }
        }
        let out = try await CLI.run(["restore", "--backup", backup, "--db", db])
        #expect(out.status == 0, "\(out.stderr)")
        expectTheDaemons()
        // A store an older build's restore left root's goes back to its directory's owner.
        #expect(chown(db, 0, 0) == 0)
        #expect(try await CLI.run(["restore", "--backup", backup, "--db", db]).status == 0)
        expectTheDaemons()
    }
}
