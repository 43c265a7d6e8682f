import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

/// `creditsync hub node add|list|revoke|rotate-key|subscribe|area`.
struct HubNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Enroll, list, revoke nodes, rotate their keys, and set what they receive.",
        subcommands: [Add.self, List.self, Revoke.self, RotateKey.self, Subscribe.self, Area.self])
}
