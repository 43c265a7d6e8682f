import ArgumentParser
import CreditData
import CreditNode
import Logging
import Metrics
import Prometheus

/// `creditsync node [run] --config FILE`: runs the daemon until SIGTERM.
struct NodeRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the node daemon (the default subcommand).")

    @Option(help: "The node's configuration file (see Deploy/config/node.conf.json).")
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format: text, json, or journald (<N> priority prefixes); journald by default under systemd, else text.")
    var logFormat: LogFormat?

    func run() async throws {
        (logFormat ?? .automatic).bootstrap()
        let settings = try ConfigFile.load(NodeConfig.self, from: config)
        var logger = Logger(label: "creditsync.node.\(settings.node.id)")
        logger.logLevel = logLevel
        let daemon = try NodeDaemon(config: settings, configPath: config, logger: logger)
        MetricsSystem.bootstrap(DaemonMetricsFactory(registry: daemon.service.metrics.registry))
        let hub = "hub \(settings.hub.url) (\(settings.hub.transportSecurity))"
        logger.notice("node \(settings.node.id) \(settings.node.name) listening on \(settings.listen.host):\(settings.listen.port); \(hub)")
        try await listening(on: "\(settings.listen.host):\(settings.listen.port)") { try await daemon.run(logger: logger) }
        logger.notice("node \(settings.node.id) stopped")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
