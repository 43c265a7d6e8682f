import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import Metrics
import Prometheus
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

    @Option(help: "The hub's configuration file (see Deploy/config/hub.conf.json).")
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format: text, json, or journald (<N> priority prefixes); journald by default under systemd, else text.")
    var logFormat: LogFormat?

    func run() async throws {
        (logFormat ?? .automatic).bootstrap()
        let settings = try ConfigFile.load(HubConfig.self, from: config)
        var logger = Logger(label: "creditsync.hub")
        logger.logLevel = logLevel
        let daemon = try HubDaemon(config: settings, configPath: config, logger: logger)
        // HTTP request metrics (Hummingbird's MetricsMiddleware) go to the hub's own registry.
        MetricsSystem.bootstrap(DaemonMetricsFactory(registry: daemon.service.metrics.registry))
        let op = settings.operatorListener
        // Whether the nodes' listener is TLS, and mutual: a deployer reads it in the journal.
        let tls = " (\(settings.transportSecurity))"
        logger.notice("hub \(settings.hub.id) listening for nodes on \(settings.listen.host):\(settings.listen.port)\(tls); operators (dashboard, status, metrics) on http://\(op.host):\(op.port)/\(op.tokenFile == nil ? "" : " with a bearer token")")
        try await listening(on: "\(settings.listen.host):\(settings.listen.port) (nodes) or \(op.host):\(op.port) (operators)") {
            try await daemon.run(logger: logger)
        }
        logger.notice("hub \(settings.hub.id) stopped")
    }
}
