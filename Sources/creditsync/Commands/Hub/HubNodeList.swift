import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubNode {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled nodes.")
        @Option(help: "The hub's configuration file.") var config: String
        @Flag(help: "One JSON array of the nodes instead of the table.") var json = false

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(try store.nodes()), as: UTF8.self))
                return
            }
            for n in try store.nodes() {
                print("\(n.id)\t\(n.name)\t\(n.status)\tkeys: \(n.keys.joined(separator: ","))"
                      + (n.revokedKeys.isEmpty ? "" : "\trevoked: \(n.revokedKeys.joined(separator: ","))")
                      + "\treceives: \(n.subscription?.joined(separator: ",") ?? "all")")
            }
        }
    }
}
