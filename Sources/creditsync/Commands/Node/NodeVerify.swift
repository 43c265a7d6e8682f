import ArgumentParser
import CreditData
import CreditNode
import Foundation
import SyncProtocol

/// `creditsync node verify`: an integrity check of a node's store, offline or against the live hub.
struct NodeVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a node store's log, Merkle tree and hub receipts, offline or against the live hub.",
        discussion: """
            With --db: offline (add --hub-key to check the receipts' signatures). With --config (the node's \
            configuration): the same, then against the live hub — its signed log head must extend the head this node \
            pinned (a consistency proof), and the hub's signed position must name a prefix of this node's log with the \
            same root. Read-only: safe beside the running daemon. Exit 0 when everything holds, 1 with the problems listed.
            """)

    @Option(help: "The node's SQLite store (offline check).")
    var db: String?

    @Option(help: "The hub's public key file; with it, every receipt's signature is checked too.")
    var hubKey: String?

    @Option(help: "The node's configuration file: check against the live hub with the node's key and pinned hub keys.")
    var config: String?

    @Flag(help: "Print a JSON object.")
    var json = false

    func validate() throws {
        guard (db == nil) != (config == nil) else { throw ValidationError("give either --db (offline) or --config (against the live hub)") }
    }

    func run() async throws {
        let report: NodeVerifier.Report
        var keysChecked = hubKey != nil
        if let config {
            let settings = try ConfigFile.load(NodeConfig.self, from: config)
            let link = try HubLink(config: settings, configPath: config)
            do {
                report = try await NodeVerifier.verify(path: ConfigFile.resolve(settings.database, relativeTo: config), node: settings.node.id,
                                                       hub: settings.hub.id, hubKeys: link.hubKeys, transport: link.transport)
                try? await link.ownedClient?.shutdown()
            } catch {
                try? await link.ownedClient?.shutdown()
                throw error
            }
            keysChecked = true
        } else {
            var keys: KeyRegistry?
            if let hubKey {
                var registry = KeyRegistry()
                try registry.enroll(KeyFile.readPublic(URL(fileURLWithPath: hubKey)), for: "360000")
                keys = registry
            }
            report = try NodeVerifier.verify(path: db!, hubKeys: keys)
        }
        if json {
            print(jsonLine(report))
        } else {
            print("log: \(report.logSize) changes, root \(report.root)")
            print("hub receipts: \(report.receipts), acknowledged through \(report.acknowledged)\(keysChecked ? "" : " (signatures not checked: no --hub-key)")")
            print("records: \(report.records)")
            for line in report.live { print("live hub: \(line)") }
            print(report.ok ? "OK" : "PROBLEMS:\n" + report.problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        if !report.ok { throw ExitCode(1) }
    }
}
