import CreditData
public import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle
import SyncProtocol
import HummingbirdTLS
import SyncTransport

/// Assembles the hub: store, service and HTTP, run in a ServiceGroup that shuts down gracefully
/// on SIGTERM.
public struct HubDaemon {
    public let service: HubService
    /// The nodes' listener.
    public let router: Router<HubRequestContext>
    /// The operators' listener.
    public let operatorRouter: Router<BasicRequestContext>
    public let configuration: HubConfig
    let configPath: String

    public init(config: HubConfig, configPath: String, logger: Logger = Logger(label: "creditsync.hub"),
                now: @escaping @Sendable () -> Date = Date.init) throws {
        self.configPath = configPath
        let path = { ConfigFile.resolve($0, relativeTo: configPath) }
        let store = try HubStore(path: path(config.database))
        try store.claim(hub: config.hub.id, path: path(config.database))
        let key = try KeyFile.readPrivate(URL(fileURLWithPath: path(config.signingKey)))
        let overlays = config.overlays(configPath: configPath)
        let reference = try ReferenceData.load(overlays: overlays)
        service = try HubService(id: config.hub.id, store: store, key: key, reference: reference,
                                 distribution: ReferenceDistribution(overlays: overlays), bodySeconds: try config.bodySeconds(configPath: configPath),
                                 logger: logger, now: now)
        try service.reloadReference()
        router = HubAPI.router(service: service)
        operatorRouter = OperatorAPI.router(service: service, token: try config.operatorToken(configPath: configPath))
        configuration = config
    }

    /// The operators' listener (plain HTTP: loopback, or behind the operators' own proxy).
    public func operatorApplication(logger: Logger) -> some ApplicationProtocol {
        let listener = configuration.operatorListener
        return Application(router: operatorRouter, server: .http1(configuration: .init(idleTimeout: ServerLimits.idleTimeout)),
                           configuration: ApplicationConfiguration(address: .hostname(listener.host, port: listener.port),
                                                                  serverName: "creditsync-hub-operator/\(configuration.hub.id)"),
                           logger: logger)
    }

    /// The nodes' listener, with TLS when configured.
    public func application(logger: Logger) throws -> some ApplicationProtocol {
        let settings = ApplicationConfiguration(address: .hostname(configuration.listen.host, port: configuration.listen.port),
                                                serverName: "creditsync-hub/\(configuration.hub.id)")
        guard let tlsConfiguration = try configuration.serverTLS(configPath: configPath) else {
            return Application(router: router, server: .http1(configuration: .init(idleTimeout: ServerLimits.idleTimeout)),
                               configuration: settings, logger: logger)
        }
        return Application(router: router, server: try .tls(.http1(configuration: .init(idleTimeout: ServerLimits.idleTimeout)), tlsConfiguration: tlsConfiguration),
                           configuration: settings, logger: logger)
    }


    /// Runs until SIGTERM or SIGINT.
    public func run(logger: Logger) async throws {
        // The long-poll drainer comes last so it is told first: fan-out requests answer at once and
        // the HTTP server can then finish its in-flight requests and stop.
        let group = ServiceGroup(configuration: .init(services: [.init(service: try application(logger: logger)),
                                                                 .init(service: operatorApplication(logger: logger)),
                                                                 .init(service: ReferenceReloader(service: service)),
                                                                 .init(service: AdminActionLog(service: service)),
                                                                 .init(service: LongPollDrainer(service: service))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Opens a hub's store from its configuration file, for the operator commands: beside a running
/// hub, as an operator (``StoreRole/operator``), so that it never tidies what the daemon owns.
public func openHubStore(configPath: String) throws -> (HubConfig, HubStore) {
    let config = try ConfigFile.load(HubConfig.self, from: configPath)
    return (config, try HubStore(path: ConfigFile.resolve(config.database, relativeTo: configPath), role: .operator))
}

/// The hub's logic over its store opened as an operator, beside a running hub: for reports,
/// which read the windows on the calendar in force and never write.
public func openHubService(configPath: String) throws -> HubService {
    let (config, store) = try openHubStore(configPath: configPath)
    let key = try KeyFile.readPrivate(URL(fileURLWithPath: ConfigFile.resolve(config.signingKey, relativeTo: configPath)))
    return try HubService(id: config.hub.id, store: store, key: key, reference: try ReferenceData.load(overlays: config.overlays(configPath: configPath)))
}

/// Ends the hub's long-polls when a graceful shutdown begins.
public struct LongPollDrainer: Service {
    let service: HubService

    public func run() async throws {
        try? await gracefulShutdown()
        service.drainLongPolls()
    }
}
