import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubNode {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enroll a node with its public key.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's six-digit division code.") var id: String
        @Option(help: "The node's name.") var name: String
        @Option(help: "The node's public key file.") var key: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            let publicKey = try KeyFile.readPublic(URL(fileURLWithPath: key))
            do { try store.addNode(id: id, name: name, key: publicKey, at: Date()) } catch { throw CommandError("\(error)") }
            print("enrolled node \(id) \(name) with key \(publicKey.keyId)")
        }
    }
}
