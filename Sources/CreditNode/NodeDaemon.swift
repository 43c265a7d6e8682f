public import AsyncHTTPClient
import CreditData
public import Foundation
public import Hummingbird
public import Logging
import ServiceLifecycle
import SyncProtocol
public import SyncTransport

/// Assembles a node: store, provider API, pusher and receiver, composed in a ServiceGroup (HTTP
/// last, so it stops first on SIGTERM and in-flight requests finish before the store closes).
public struct NodeDaemon {
    public let service: NodeService
    public let pusher: Pusher
    public let receiver: Receiver
    public let referenceSync: ReferenceSync
    public let router: Router<ProviderRequestContext>
    public let configuration: NodeConfig
    /// The HTTP client made for TLS settings, shut down when the daemon stops (AsyncHTTPClient
    /// refuses to be released running: the node had crashed on SIGTERM).
    let ownedClient: HTTPClient?

    /// Builds the node from its configuration; `transport` replaces the HTTP link to the hub in tests.
    public init(config: NodeConfig, configPath: String, transport: (any HubTransport)? = nil, client: HTTPClient? = nil,
                now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "creditsync.node")) throws {
        let path = { ConfigFile.resolve($0, relativeTo: configPath) }
        let store = try NodeStore(path: path(config.database))
        try store.claim(node: config.node.id, path: path(config.database))
        let overlays = config.overlays(configPath: configPath), cache = config.referenceCache(configPath: configPath)
        let reference = try config.reference(configPath: configPath)
        let hubLink = try HubLink(config: config, configPath: configPath, client: client, now: now)
        let key = hubLink.key, hubKeys = hubLink.hubKeys
        let limits = try config.serviceLimits(configPath: configPath)
        let link = transport ?? hubLink.transport
        let (node, hub) = (config.node.id, config.hub.id)
        let service = NodeService(node: node, store: store, reference: reference, limits: limits, now: now) { subject in
            let envelope = try await link.subjectAttestation(node: node, subject: subject)
            return (envelope, try SubjectAttestation.open(envelope, hub: hub, keys: hubKeys, subject: subject))
        }
        var push = Pusher.Configuration()
        if let n = config.push?.maxChanges { push.maxChanges = n }
        if let ms = config.push?.idleMilliseconds { push.idleInterval = .milliseconds(ms) }
        if let s = config.push?.maxBackoffSeconds { push.backoff.maximum = .seconds(s) }
        if let n = config.push?.window { push.window = max(1, n) }
        pusher = Pusher(node: config.node.id, store: store, transport: link, key: key, hub: config.hub.id, hubKeys: hubKeys,
                        configuration: push, metrics: service.metrics, reference: { service.reference }, now: now, logger: logger)
        // One ceiling for every retry of the hub: the fan-out's had stayed at 60 s whatever the
        // configuration said, and a node came back a minute after a hub restart.
        receiver = Receiver(node: config.node.id, store: store, transport: link, hub: config.hub.id, hubKeys: hubKeys,
                            reference: { service.reference }, backoff: push.backoff, now: now, logger: logger)
        referenceSync = ReferenceSync(service: service, transport: link, hub: config.hub.id, hubKeys: hubKeys, overlays: overlays, cache: cache,
                                      interval: .seconds(config.push?.referencePollSeconds ?? 300), logger: logger)
        router = ProviderAPI.router(service: service)
        self.service = service
        self.configuration = config
        // Lives as long as the daemon process.
        ownedClient = hubLink.ownedClient
    }

    /// The HTTP application on the configured address.
    public func application(logger: Logger = Logger(label: "creditsync.node.http")) -> some ApplicationProtocol {
        Application(router: router, server: .http1(configuration: .init(idleTimeout: ServerLimits.idleTimeout)), configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port),
                                                         serverName: "creditsync-node/\(configuration.node.id)"),
                    logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully in reverse order.
    public func run(logger: Logger = Logger(label: "creditsync.node")) async throws {
        let group = ServiceGroup(configuration: .init(services: [
            .init(service: referenceSync), .init(service: pusher), .init(service: receiver), .init(service: application(logger: logger)),
        ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            try? await ownedClient?.shutdown()
            throw error
        }
        try? await ownedClient?.shutdown()
    }
}
