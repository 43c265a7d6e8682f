public import AsyncHTTPClient
public import Foundation
import CreditData
public import SyncProtocol
public import SyncTransport

/// A node's signed HTTP link to its hub, made from its configuration: its key, the pinned hub
/// keys, and an HTTP client with the configured TLS. The daemon and `node verify --config` use
/// the same one.
public struct HubLink: Sendable {
    public let key: SigningKey
    public let hubKeys: KeyRegistry
    public let transport: HTTPHubTransport
    /// A client made for TLS settings, which its owner must shut down; `nil` when the shared one serves.
    public let ownedClient: HTTPClient?

    public init(config: NodeConfig, configPath: String, client: HTTPClient? = nil, now: @escaping @Sendable () -> Date = Date.init) throws {
        let path = { ConfigFile.resolve($0, relativeTo: configPath) }
        key = try KeyFile.readPrivate(URL(fileURLWithPath: path(config.signingKey)))
        var hubKeys = KeyRegistry()
        for file in config.hub.publicKeys {
            try hubKeys.enroll(KeyFile.readPublic(URL(fileURLWithPath: path(file))), for: config.hub.id)
        }
        self.hubKeys = hubKeys
        var httpClient = client ?? HTTPClient.shared
        var owned: HTTPClient?
        if client == nil, config.hub.caCertificate != nil || config.hub.clientCertificate != nil {
            var settings = HTTPClient.Configuration()
            settings.tlsConfiguration = try TLSSettings.client(ca: config.hub.caCertificate.map(path), certificate: config.hub.clientCertificate.map(path),
                                                               privateKey: config.hub.clientPrivateKey.map(path))
            httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
            owned = httpClient
        }
        ownedClient = owned
        transport = HTTPHubTransport(client: httpClient, baseURL: config.hub.url, node: config.node.id, key: key,
                                     hub: config.hub.id, hubKeys: hubKeys, now: now)
    }
}
