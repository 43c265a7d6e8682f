import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

/// `creditsync hub`: the provincial platform's daemon and its operator tools.
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Run the provincial hub, manage its node registry, report on Article 41.",
        subcommands: [HubRun.self, HubNode.self, HubReference.self, HubConflict.self, HubReport.self],
        defaultSubcommand: HubRun.self)
}

/// `creditsync hub [run] --config FILE`.
struct HubRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the hub daemon (the default subcommand).")

    @Option(help: "The hub's configuration file (see Deploy/hub.conf.json).")
    var config: String

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let settings = try ConfigFile.load(HubConfig.self, from: config)
        var logger = Logger(label: "creditsync.hub")
        logger.logLevel = logLevel
        let daemon = try HubDaemon(config: settings, configPath: config)
        logger.notice("hub \(settings.hub.id) listening on \(settings.listen.host):\(settings.listen.port); dashboard at http://\(settings.listen.host):\(settings.listen.port)/")
        try await daemon.run(logger: logger)
    }
}
