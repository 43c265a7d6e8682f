import ArgumentParser
import CreditNode
import Foundation
import SyncProtocol

/// `creditsync node verify`: an offline integrity check of a node's store.
struct NodeVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a node store's log, Merkle tree and hub receipts offline.",
        discussion: "Exit 0 when everything holds, 1 with the problems listed otherwise.")

    @Option(help: "The node's SQLite store.")
    var db: String

    @Option(help: "The hub's public key file; with it, every receipt's signature is checked too.")
    var hubKey: String?

    @Flag(help: "Print a JSON object.")
    var json = false

    func run() async throws {
        var keys: KeyRegistry?
        if let hubKey {
            var registry = KeyRegistry()
            try registry.enroll(KeyFile.readPublic(URL(fileURLWithPath: hubKey)), for: "360000")
            keys = registry
        }
        let report = try NodeVerifier.verify(path: db, hubKeys: keys)
        if json {
            print(jsonLine(report))
        } else {
            print("log: \(report.logSize) changes, root \(report.root)")
            print("hub receipts: \(report.receipts), acknowledged through \(report.acknowledged)\(keys == nil ? " (signatures not checked: no --hub-key)" : "")")
            print("records: \(report.records)")
            print(report.ok ? "OK" : "PROBLEMS:\n" + report.problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        if !report.ok { throw ExitCode(1) }
    }
}
