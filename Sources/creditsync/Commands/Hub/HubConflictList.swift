import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubConflict {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List conflicts, unresolved first.")
        @Option(help: "The hub's configuration file.") var config: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            for c in try store.conflicts(limit: 1000) {
                let state = c.resolvedAt.map { "resolved \(ISO8601DateFormatter().string(from: $0)): \(c.resolution ?? "")" } ?? "OPEN"
                print("\(c.id)\t\(c.recordKey)\twinner \(c.winner)\tother \(c.loser)\t\(state)")
            }
        }
    }
}
