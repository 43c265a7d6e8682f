import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubNode {
    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Add a node's new key; the old one stays active for the rollover unless --revoke-old.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's id.") var id: String
        @Option(name: [.customLong("key"), .customLong("public-key")], help: "The new public key file (node.key.pub).") var key: String
        @Flag(help: "Revoke the node's other keys now.") var revokeOld = false

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            let publicKey = try KeyFile.readPublic(URL(fileURLWithPath: key))
            do { try store.rotateKey(node: id, key: publicKey, revokeOthers: revokeOld, at: Date()) } catch { throw CommandError("\(error)") }
            print("node \(id) now has key \(publicKey.keyId)\(revokeOld ? "; its other keys are revoked" : "")")
        }
    }
}
