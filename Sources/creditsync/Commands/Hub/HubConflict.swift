import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

/// `creditsync hub conflict list|resolve`: conflicting versions of one record from different nodes.
struct HubConflict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflict", abstract: "List conflicts between nodes' versions of a record, and mark them resolved.",
        subcommands: [List.self, Resolve.self])
}
