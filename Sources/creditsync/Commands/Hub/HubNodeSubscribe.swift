import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubNode {
    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the catalog items whose new records a node receives (every correction reaches every node).",
            discussion: "Article 16 shares everything province-wide, so a node receives every item until narrowed here; --all restores that.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's id.") var id: String
        @Option(help: "Comma-separated catalog item ids.") var items: String?
        @Flag(help: "Receive every item.") var all = false

        func validate() throws {
            guard (items != nil) != all else { throw ValidationError("give either --items or --all") }
        }

        func run() async throws {
            let (hubConfig, store) = try openHubStore(configPath: config)
            var subscription = NodeSubscription.all
            if let items {
                let wanted = Set(items.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                let overlays = (hubConfig.data ?? []).map { URL(fileURLWithPath: ConfigFile.resolve($0, relativeTo: config), isDirectory: true) }
                let catalog = try ReferenceData.load(overlays: overlays).catalog
                let unknown = wanted.filter { catalog.item($0) == nil }.sorted()
                guard unknown.isEmpty else { throw CommandError("not in the catalog: \(unknown.joined(separator: ", "))") }
                subscription = NodeSubscription(items: wanted)
            }
            do { try store.subscribe(node: id, to: subscription) } catch { throw CommandError("\(error)") }
            print("node \(id) receives new records of \(subscription)")
        }
    }
}
