public import CreditData
public import Foundation
import SyncTransport

/// A node daemon's configuration (`Deploy/config/node.conf.json` is a commented sample).
public struct NodeConfig: Codable, Sendable {
    public struct Identity: Codable, Sendable {
        /// The node's id: its six-digit division code (360100 for Nanchang).
        public var id: String
        public var name: String
    }

    public struct Listen: Codable, Sendable {
        public var host: String
        public var port: Int
    }

    public struct Hub: Codable, Sendable {
        /// The hub's base URL.
        public var url: String
        /// The hub's id (the province code).
        public var id: String
        /// Files of the hub's public keys, pinned: fan-out and receipts signed by anything else are refused.
        public var publicKeys: [String]
        /// For an `https` hub: the province CA that issued the hub's certificate (PEM).
        public var caCertificate: String?
        /// For a hub that requires mutual TLS: this node's certificate and key (PEM).
        public var clientCertificate: String?
        public var clientPrivateKey: String?

        /// The link to the hub in a word: "plain HTTP", "TLS" or "mutual TLS" (logged at start).
        public var transportSecurity: String {
            !url.lowercased().hasPrefix("https:") ? "plain HTTP" : clientCertificate == nil ? "TLS" : "mutual TLS"
        }
    }

    public struct Push: Codable, Sendable {
        public var maxChanges: Int?
        public var idleMilliseconds: Int?
        public var maxBackoffSeconds: Int?
        /// Change sets in flight at once (default 4; 1 waits for each receipt before the next set).
        public var window: Int?
        /// How often the node asks the hub for new catalog and calendar files (default 300).
        public var referencePollSeconds: Int?
    }

    public struct Limits: Codable, Sendable {
        public var maxBodyBytes: Int?
        public var maxBatchRecords: Int?
        /// Request bodies let in at once (default 4; ``NodeService/Limits/concurrentBodies``).
        public var concurrentBodies: Int?
        /// Seconds a body may take to arrive once let in (default 60).
        public var bodySeconds: Double?
        /// Seconds a request waits for a permit before 503 `busy` (default 20, under 30).
        public var permitWaitSeconds: Double?
    }

    public var node: Identity
    public var listen: Listen
    /// The SQLite store.
    public var database: String
    /// This node's private signing key file (mode 0600).
    public var signingKey: String
    public var hub: Hub
    /// Overlay data directories (catalog supplements, calendar years).
    public var data: [String]?
    public var push: Push?
    public var limits: Limits?

    public init(node: Identity, listen: Listen, database: String, signingKey: String, hub: Hub, data: [String]? = nil,
                push: Push? = nil, limits: Limits? = nil) {
        self.node = node
        self.listen = listen
        self.database = database
        self.signingKey = signingKey
        self.hub = hub
        self.data = data
        self.push = push
        self.limits = limits
    }
}

extension NodeConfig {
    /// The overlay data directories, resolved against the configuration file.
    public func overlays(configPath: String) -> [URL] {
        (data ?? []).map { URL(fileURLWithPath: ConfigFile.resolve($0, relativeTo: configPath), isDirectory: true) }
    }

    /// Where ReferenceSync caches the hub's catalog and calendar files: beside the store.
    public func referenceCache(configPath: String) -> URL {
        URL(fileURLWithPath: ConfigFile.resolve(database, relativeTo: configPath)).deletingLastPathComponent()
            .appendingPathComponent("reference", isDirectory: true)
    }

    /// The reference data the node works with: the bundled data, the overlays, and the hub's
    /// files cached beside the store when they load (else without them).
    public func reference(configPath: String) throws -> ReferenceData {
        let overlays = overlays(configPath: configPath)
        return try (try? ReferenceData.load(overlays: overlays + [referenceCache(configPath: configPath)])) ?? ReferenceData.load(overlays: overlays)
    }
}

extension NodeConfig {
    /// The provider API's limits this file sets over the defaults, as the daemon and
    /// `check-config` both read them.
    /// - Throws: ``ConfigFile/Failure`` naming a setting out of its range.
    public func serviceLimits(configPath: String) throws -> NodeService.Limits {
        var result = NodeService.Limits()
        func refuse(_ reason: String) -> ConfigFile.Failure { ConfigFile.Failure(path: configPath, reason: reason) }
        if let max = limits?.maxBodyBytes {
            guard max > 0 else { throw refuse("limits.maxBodyBytes must be above 0, not \(max)") }
            result.maxBodyBytes = max
        }
        if let max = limits?.maxBatchRecords {
            guard max > 0 else { throw refuse("limits.maxBatchRecords must be above 0, not \(max)") }
            result.maxBatchRecords = max
        }
        if let count = limits?.concurrentBodies {
            guard count >= 1 else { throw refuse("limits.concurrentBodies must be at least 1, not \(count)") }
            result.concurrentBodies = count
        }
        if let seconds = limits?.bodySeconds {
            guard seconds > 0 else { throw refuse("limits.bodySeconds must be above 0, not \(seconds)") }
            result.bodySeconds = seconds
        }
        if let seconds = limits?.permitWaitSeconds {
            let idle = Double(ServerLimits.idleTimeout.nanoseconds) / 1e9
            guard seconds > 0, seconds < idle else {
                throw refuse("limits.permitWaitSeconds must be above 0 and under the listener's \(Int(idle)) s idle timeout, not \(seconds)")
            }
            result.permitWaitSeconds = seconds
        }
        return result
    }
}
