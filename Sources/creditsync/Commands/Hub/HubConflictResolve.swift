import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

extension HubConflict {
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a conflict resolved with a note (the winning version stays; a provider corrects the record if it must change).")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The conflict's id.") var id: Int
        @Option(help: "How it was resolved, for the record.") var note: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            guard try store.resolveConflict(id, resolution: note, at: Date()) else { throw CommandError("no open conflict \(id)") }
            print("conflict \(id) resolved")
        }
    }
}
