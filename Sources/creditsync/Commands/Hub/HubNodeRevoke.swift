import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubNode {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a node, or one key of it with --key-id.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's id.") var id: String
        @Option(help: "Revoke only this key.") var keyId: String?

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            let revoked: Bool
            do { revoked = try store.revoke(node: id, keyId: keyId, at: Date()) } catch { throw CommandError("\(error)") }
            let what = keyId.map { "key \($0) of node \(id)" } ?? "node \(id)"
            print(revoked ? "revoked \(what)" : "\(what) was already revoked; nothing changed")
        }
    }
}
