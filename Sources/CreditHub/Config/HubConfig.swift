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

    public var hub: Identity
    public var listen: Listen
    public var database: String
    /// The hub's private signing key (mode 0600); its public key is pinned at every node.
    public var signingKey: String
    /// Overlay data directories (calendar years, catalog supplements).
    public var data: [String]?

    public init(hub: Identity, listen: Listen, database: String, signingKey: String, data: [String]? = nil) {
        self.hub = hub
        self.listen = listen
        self.database = database
        self.signingKey = signingKey
        self.data = data
    }
}
