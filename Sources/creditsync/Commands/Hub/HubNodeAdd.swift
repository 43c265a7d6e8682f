import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubNode {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enroll a node with its public key.",
            discussion: "Only the node's public key file (node.key.pub) comes to the hub; the private key never leaves the node. Running it again with the same key changes nothing (exit 0).")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's six-digit division code.") var id: String
        @Option(help: "The node's name.") var name: String
        @Option(name: [.customLong("key"), .customLong("public-key")], help: "The node's public key file (node.key.pub).") var key: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            let publicKey = try KeyFile.readPublic(URL(fileURLWithPath: key))
            let added: Bool
            do { added = try store.addNode(id: id, name: name, key: publicKey, at: Date()) } catch { throw CommandError("\(error)") }
            print(added ? "enrolled node \(id) \(name) with key \(publicKey.keyId)" : "node \(id) is already enrolled with key \(publicKey.keyId); nothing changed")
        }
    }
}
