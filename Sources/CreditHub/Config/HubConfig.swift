/// The hub daemon's configuration (`Deploy/hub.conf.json` is a commented sample).
public struct HubConfig: Codable, Sendable {
    public struct Identity: Codable, Sendable {
        /// The hub's id: the province code.
        public var id: String
        public var name: String
    }

    public struct Listen: Codable, Sendable {
        public var host: String
        public var port: Int
    }

    /// TLS for the hub's listener; absent for plain HTTP (one machine, or behind a TLS proxy).
    public struct TLS: Codable, Sendable {
        /// PEM certificate chain and private key of the hub.
        public var certificate: String
        public var privateKey: String
        /// When set, mutual TLS: clients must present a certificate issued by this CA (PEM).
        public var clientCA: String?
    }

    public var hub: Identity
    public var listen: Listen
    public var database: String
    /// The hub's private signing key (mode 0600); its public key is pinned at every node.
    public var signingKey: String
    /// Overlay data directories (calendar years, catalog supplements).
    public var data: [String]?
    public var tls: TLS?

    public init(hub: Identity, listen: Listen, database: String, signingKey: String, data: [String]? = nil, tls: TLS? = nil) {
        self.tls = tls
        self.hub = hub
        self.listen = listen
        self.database = database
        self.signingKey = signingKey
        self.data = data
    }
}
