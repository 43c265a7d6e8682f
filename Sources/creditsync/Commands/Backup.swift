import ArgumentParser
import CreditDeploy
import Foundation

/// `creditsync backup`: a consistent copy of a running daemon's store.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a node's or the hub's store while it runs (SQLite online backup).",
        discussion: "Restore with `creditsync restore` while the daemon is stopped.")

    @Option(help: "The store to copy.") var db: String
    @Option(help: "The backup file to write (must not exist).") var out: String

    func run() async throws {
        do {
            let s = try StoreBackup.backup(from: db, to: out)
            print("backed up \(s.kind) store \(db) to \(out): \(s.bytes) bytes, integrity \(s.integrity)")
        } catch { throw CommandError("\(error)") }
    }
}

/// `creditsync restore`: puts a backup in place of a stopped daemon's store.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace a stopped daemon's store with a backup.",
        discussion: """
        A restored node takes back from the hub what it had pushed after the backup before it accepts \
        writes again, and re-reads the fan-out; a restored hub is noticed by the nodes, whose logs are \
        ahead of it, and is re-fed by them.
        """)

    @Option(help: "The backup file.") var backup: String
    @Option(help: "The store to replace (its daemon must be stopped).") var db: String

    func run() async throws {
        do {
            let s = try StoreBackup.restore(backup: backup, to: db)
            print("restored \(s.kind) store \(db) from \(backup): integrity \(s.integrity)\(s.kind == "node" ? "; it will catch up with the hub when it starts" : "")")
        } catch { throw CommandError("\(error)") }
    }
}
