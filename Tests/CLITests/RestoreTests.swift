@testable import CreditDeploy
import CreditHub
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

    /// A node store in `dir` backed up at 5 records (`backup.sqlite`), then written to 9.
    func storeWrittenPastItsBackup(in dir: URL, store name: String = "node.sqlite") async throws -> (db: String, backup: String) {
        let db = dir.appendingPathComponent(name).path, backup = dir.appendingPathComponent("backup.sqlite").path
        try store(at: db, records: 5)
        #expect(try await CLI.run(["backup", "--db", db, "--out", backup]).status == 0)
        let f = try NodeFixture(node: "360100", path: db, readScope: .all)
        _ = try f.service.submit(f.punishments(5..<9), by: f.identity)
        try f.service.store.close()
        return (db, backup)
    }

    /// 64 KiB of bytes that are no SQLite database.
    func randomFile(in dir: URL) -> String {
        let random = dir.appendingPathComponent("random.sqlite").path
        #expect(FileManager.default.createFile(atPath: random, contents: Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })))
        return random
    }

    @Test func aBadBackupTheStoreItselfOrARunningDaemonIsRefusedAndChangesNothing() async throws {
        let dir = try Fixtures.temporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("node.sqlite").path
        try store(at: db, records: 12)
        let good = dir.appendingPathComponent("good.sqlite").path
        #expect(try await CLI.run(["backup", "--db", db, "--out", good]).status == 0)

        let random = randomFile(in: dir)
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

    /// With a backup of each of a hundred nodes, one put in another's place would push one
    /// node's log as another's: a restore refuses another node's backup, and a hub's in a node's
    /// place; a daemon refuses a store another claimed.
    @Test func anotherNodesBackupOrTheHubsIsRefusedAndADaemonRefusesAnotherNodesStore() async throws {
        let dir = try Fixtures.temporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (nanchang, ganzhou) = (dir.appendingPathComponent("nanchang.sqlite").path, dir.appendingPathComponent("ganzhou.sqlite").path)
        for (path, id, count) in [(nanchang, "360100", 3), (ganzhou, "360700", 4)] {
            try store(at: path, records: count)
            let s = try NodeStore(path: path)
            try s.claim(node: id, path: path)
            try s.claim(node: id, path: path) // the daemon's every start
            try s.close()
        }
        let hub = dir.appendingPathComponent("hub.sqlite").path
        let h = try HubStore(path: hub)
        try h.claim(hub: "360000", path: hub)
        try h.close()
        let (nanchangBackup, hubBackup) = (dir.appendingPathComponent("360100-1.sqlite").path, dir.appendingPathComponent("hub-1.sqlite").path)
        #expect(try await CLI.run(["backup", "--db", nanchang, "--out", nanchangBackup]).status == 0)
        #expect(try await CLI.run(["backup", "--db", hub, "--out", hubBackup]).status == 0)

        let other = try await CLI.run(["restore", "--backup", nanchangBackup, "--db", ganzhou])
        #expect(other.status == 1 && other.stderr.contains("is node 360100's backup and \(ganzhou) is node 360700's store"), "\(other.stderr)")
        let hubs = try await CLI.run(["restore", "--backup", hubBackup, "--db", ganzhou])
        #expect(hubs.status == 1 && hubs.stderr.contains("is a hub's backup (hub 360000) and \(ganzhou) is a node's store"), "\(hubs.stderr)")
        #expect(try records(ganzhou) == 4, "refused: the store is as it was")
        // Its own backup, and a new machine's empty place, take it.
        #expect(try await CLI.run(["restore", "--backup", nanchangBackup, "--db", nanchang]).status == 0)
        let moved = dir.appendingPathComponent("moved.sqlite").path
        #expect(try await CLI.run(["restore", "--backup", nanchangBackup, "--db", moved]).status == 0)
        #expect(try records(moved) == 3)

        // A daemon configured as Nanchang, pointed at Ganzhou's store, refuses it.
        let wrong = try NodeStore(path: ganzhou)
        defer { try? wrong.close() }
        #expect(throws: StoreOwner.Mismatch.self) { try wrong.claim(node: "360100", path: ganzhou) }
    }

    /// An operator command run as root before the daemon's first start makes the store its
    /// directory's owner's (the daemon's user), and a store the daemon's user cannot open is
    /// refused with who owns it, not SQLite's bare "unable to open database file". Run where the
    /// tests run as root (CI), as `nobody` through setpriv.
    @Test func aStoreMadeByRootIsTheDaemonUsersAndOneItCannotOpenSaysWhose() async throws {
        let setpriv = "/usr/bin/setpriv"
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv) else { return }
        let dir = "/tmp/creditsync-owner-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The binary and its data where nobody may read them, wherever the checkout is.
        let installed = dir + "/bin"
        try FileManager.default.createDirectory(atPath: installed, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        try FileManager.default.copyItem(atPath: CLI.executable.path, toPath: installed + "/creditsync")
        let resources = "creditsync_CreditData.resources"
        try FileManager.default.copyItem(at: CLI.executable.deletingLastPathComponent().appendingPathComponent(resources),
                                         to: URL(fileURLWithPath: installed + "/" + resources))
        #expect(try await ChildProcess.run(URL(fileURLWithPath: "/bin/chmod"), ["-R", "a+rX", installed]).status == 0)
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", installed + "/creditsync"]
        // The daemon's directory, as StateDirectory= makes it: the store root makes in it is its owner's.
        let state = dir + "/360100"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(chown(state, 65534, 65534) == 0)
        #expect(try await CLI.run(["node", "provider", "list", "--db", state + "/node.sqlite"]).status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: state + "/node.sqlite")[.ownerAccountID] as? Int == 65534)
        let opened = try await ChildProcess.run(URL(fileURLWithPath: setpriv), asNobody + ["node", "provider", "list", "--db", state + "/node.sqlite"])
        #expect(opened.status == 0, "\(opened.stderr)")
        // The hub's store has a file of its own beside the database, its evidence: the same.
        let hubState = dir + "/hub"
        try FileManager.default.createDirectory(atPath: hubState, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(chown(hubState, 65534, 65534) == 0)
        let sample = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Deploy/config/hub.conf.json"), encoding: .utf8)
        let hubConfig = dir + "/hub.conf.json"
        try Data(sample.replacingOccurrences(of: "/var/lib/creditsync/hub.sqlite", with: hubState + "/hub.sqlite").utf8)
            .write(to: URL(fileURLWithPath: hubConfig))
        #expect(try await CLI.run(["hub", "node", "list", "--config", hubConfig]).status == 0)
        for file in ["hub.sqlite", "hub.sqlite-evidence"] {
            #expect(try FileManager.default.attributesOfItem(atPath: hubState + "/" + file)[.ownerAccountID] as? Int == 65534, "\(file)")
        }
        // A store root keeps (made where root owns the directory) is refused in words.
        #expect(try await CLI.run(["node", "provider", "list", "--db", dir + "/node.sqlite"]).status == 0)
        let refused = try await ChildProcess.run(URL(fileURLWithPath: setpriv), asNobody + ["node", "provider", "list", "--db", dir + "/node.sqlite"])
        #expect(refused.status != 0 && refused.stderr.contains("cannot open the store \(dir)/node.sqlite")
                && refused.stderr.contains("belongs to root (mode 600) and this process runs as nobody"), "\(refused.stderr)")
    }

    @Test func aGoodBackupReplacesTheStoreAndMarksItRestored() async throws {
        let dir = try Fixtures.temporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (db, backup) = try await storeWrittenPastItsBackup(in: dir)
        // The backup is its owner's alone, and one file: nothing is written beside it to read it,
        // so a restore works from read-only media.
        let mode = try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: backup)
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

    /// A restore killed at any step of its swap (a `kill -9` or a power loss: the files as it
    /// left them) leaves a store no daemon opens, since it could open no store at all or a new
    /// database beside the old one's log. The same restore run again finishes it. Killed before
    /// it moved the old store, the old store is whole, as the refusal says; killed once the swap
    /// is on disk, the new store opens.
    @Test func aRestoreKilledAtAnyStepIsRefusedByTheDaemonsUntilItIsRunAgain() async throws {
        let dir = try Fixtures.temporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (template, backup) = try await storeWrittenPastItsBackup(in: dir, store: "template.sqlite")

        struct Killed: Error {}
        /// A copy of the store at `source` (the template by default), in a folder of its own.
        func copyOfTheStore(_ name: String, from source: String? = nil) throws -> String {
            let source = source ?? template
            let db = dir.appendingPathComponent(name).appendingPathComponent("node.sqlite").path
            try FileManager.default.createDirectory(atPath: (db as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: source + suffix) {
                try FileManager.default.copyItem(atPath: source + suffix, toPath: db + suffix)
            }
            return db
        }
        func leftovers(_ db: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: (db as NSString).deletingLastPathComponent)
                .filter { $0.contains(".restoring") || $0.contains(".before-restore") }
        }
        let random = randomFile(in: dir)
        // The steps, as the restore names them.
        var steps: [String] = []
        let whole = try copyOfTheStore("whole")
        _ = try StoreBackup.restore(backup: backup, to: whole, step: { steps.append($0) })
        #expect(try records(whole) == 5)
        let opens = try #require(steps.firstIndex(of: "checked")) + 1
        #expect(steps.contains { $0.hasPrefix("move") && $0.hasSuffix("aside") } && steps.contains { $0.hasSuffix(" in") })

        for (k, name) in steps.enumerated() {
            let db = try copyOfTheStore("killed-\(k)")
            var reached = 0
            #expect(throws: Killed.self) {
                _ = try StoreBackup.restore(backup: backup, to: db, step: { _ in
                    if reached == k { throw Killed() }
                    reached += 1
                })
            }
            if k < opens {
                for role in [StoreRole.daemon, .operator] {
                    do {
                        _ = try NodeStore(path: db, role: role)
                        Issue.record("the store of a restore killed at '\(name)' was opened as \(role)")
                    } catch let refused as RestoreStaging.Interrupted {
                        #expect(refused.description.contains("run `creditsync restore"), "\(refused)")
                        #expect(!refused.leftBehind.isEmpty)
                    }
                }
                // A run that fails (a bad backup) leaves the old store whole in place, whatever
                // step the killed one reached: as the refusal then says, removing what the
                // restore left keeps it.
                #expect(try await CLI.run(["restore", "--backup", random, "--db", db]).status == 1)
                do {
                    // Killed in its swap, it is undone first: nothing is left.
                    try RestoreStaging.checkNoInterruptedRestore(database: db)
                    #expect(try records(db) == 9, "killed at '\(name)'")
                } catch let error as RestoreStaging.Interrupted {
                    #expect(error.oldStoreInPlace, "killed at '\(name)': \(error)")
                    #expect(try records(try copyOfTheStore("kept-\(k)", from: db)) == 9, "killed at '\(name)'")
                }
            } else {
                let opened = try NodeStore(path: db)
                #expect(try opened.stateDigest().records == 5, "killed at '\(name)'")
                try opened.close()
            }
            let again = try await CLI.run(["restore", "--backup", backup, "--db", db])
            #expect(again.status == 0, "killed at '\(name)': \(again.stderr)")
            let left = try leftovers(db)
            #expect(left.isEmpty, "killed at '\(name)': \(left)")
            let finished = try NodeStore(path: db)
            #expect(try finished.stateDigest().records == 5, "killed at '\(name)'")
            #expect(try finished.isRestorePending(), "killed at '\(name)'")
            try finished.close()
        }
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
