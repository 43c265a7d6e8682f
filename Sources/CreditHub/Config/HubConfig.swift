import CreditData
public import Foundation
public import NIOSSL
import SyncProtocol
import SyncTransport

/// The hub daemon's configuration (`Deploy/config/hub.conf.json` is a commented sample).
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

    /// The operators' listener: the dashboard, `/v1/status` and `/metrics` (``OperatorAPI``).
    public struct Operator: Codable, Sendable {
        /// Loopback (`127.0.0.1`) unless operators and Prometheus reach it from elsewhere.
        public var host: String
        public var port: Int
        /// A file holding the bearer token the operator routes require (`Authorization: Bearer …`);
        /// absent, whoever reaches the listener may read them.
        public var tokenFile: String?

        public init(host: String = "127.0.0.1", port: Int, tokenFile: String? = nil) {
            self.host = host
            self.port = port
            self.tokenFile = tokenFile
        }

        enum CodingKeys: String, CodingKey { case host, port, tokenFile }

        /// `host` may be left out: the listener is then on loopback, as the README promises.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(host: try c.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1", port: try c.decode(Int.self, forKey: .port),
                      tokenFile: try c.decodeIfPresent(String.self, forKey: .tokenFile))
        }
    }

    /// Limits on the nodes' listener.
    public struct Limits: Codable, Sendable {
        /// Seconds a node's request body may take to arrive (default ``HubService/defaultBodySeconds``,
        /// 120; 408 `too-slow` beyond).
        public var bodySeconds: Double?

        public init(bodySeconds: Double? = nil) { self.bodySeconds = bodySeconds }
    }

    public var hub: Identity
    /// The nodes' listener: change sets, fan-out, reference data, log proofs.
    public var listen: Listen
    public var operatorListener: Operator
    public var database: String
    /// The hub's private signing key (mode 0600); its public key is pinned at every node.
    public var signingKey: String
    /// Overlay data directories (calendar years, catalog supplements).
    public var data: [String]?
    public var tls: TLS?
    public var limits: Limits?

    /// The nodes' listener in a word: "plain HTTP", "TLS" or "mutual TLS" (logged at start,
    /// printed by check-config).
    public var transportSecurity: String { tls.map { $0.clientCA == nil ? "TLS" : "mutual TLS" } ?? "plain HTTP" }

    enum CodingKeys: String, CodingKey {
        case hub, listen, operatorListener = "operator", database, signingKey, data, tls, limits
    }

    public init(hub: Identity, listen: Listen, operator: Operator, database: String, signingKey: String, data: [String]? = nil, tls: TLS? = nil,
                limits: Limits? = nil) {
        self.tls = tls
        self.limits = limits
        operatorListener = `operator`
        self.hub = hub
        self.listen = listen
        self.database = database
        self.signingKey = signingKey
        self.data = data
    }
}

extension HubConfig {
    /// The overlay data directories, resolved against the configuration file.
    public func overlays(configPath: String) -> [URL] {
        (data ?? []).map { URL(fileURLWithPath: ConfigFile.resolve($0, relativeTo: configPath), isDirectory: true) }
    }

    /// How long a node's request body may take to arrive, in seconds: `limits.bodySeconds`, or
    /// ``HubService/defaultBodySeconds``. The daemon and `check-config` both read it here.
    /// - Throws: ``ConfigFile/Failure`` when the setting is not above 0.
    public func bodySeconds(configPath: String) throws -> Double {
        guard let seconds = limits?.bodySeconds else { return HubService.defaultBodySeconds }
        guard seconds > 0 else { throw ConfigFile.Failure(path: configPath, reason: "limits.bodySeconds must be above 0, not \(seconds)") }
        return seconds
    }

    /// The operator token, when `operator.tokenFile` names one.
    /// - Throws: when the file cannot be read or holds fewer than 16 characters.
    public func operatorToken(configPath: String) throws -> String? {
        guard let file = operatorListener.tokenFile else { return nil }
        let path = ConfigFile.resolve(file, relativeTo: configPath)
        // Refused when group or others may read it, as signing keys are: the token opens the
        // province's dashboard, status and metrics.
        if let refusal = KeyFile.openToOthersRefusal(path) {
            throw ConfigFile.Failure(path: configPath, reason: "operator.tokenFile \(refusal)")
        }
        let token = try String(contentsOfFile: path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 16 else { throw ConfigFile.Failure(path: configPath, reason: "operator.tokenFile holds fewer than 16 characters") }
        return token
    }

    /// The nodes' listener's TLS, when `tls` is set (``TLSSettings/server(certificate:privateKey:clientCA:)``).
    public func serverTLS(configPath: String) throws -> TLSConfiguration? {
        guard let tls else { return nil }
        let path = { ConfigFile.resolve($0, relativeTo: configPath) }
        return try TLSSettings.server(certificate: path(tls.certificate), privateKey: path(tls.privateKey), clientCA: tls.clientCA.map(path))
    }
}
