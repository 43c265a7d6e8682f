public import Foundation
import SyncProtocol

/// A node's data folder for a real-process test: keys, a configuration file, and a provider
/// token made with the real `creditsync node provider add`.
public struct NodeSandbox: Sendable {
    public let directory: URL
    public let node: String
    public let port: Int
    public let config: URL
    public let token: String
    public let unit: String

    public var url: String { "http://127.0.0.1:\(port)" }
    public var database: String { directory.appendingPathComponent("node.sqlite").path }

    /// A node whose hub is nowhere (a port nothing listens on, a key nobody holds): for tests of
    /// the daemon alone, which serves its providers without a hub.
    public static func withoutHub(in parent: URL, node: String) async throws -> NodeSandbox {
        let hubKey = parent.appendingPathComponent("hub.pub")
        try KeyFile.writePublic(SigningKey().publicKey, to: hubKey)
        return try await NodeSandbox(in: parent, node: node, hubURL: "http://127.0.0.1:\(LoopbackHTTP.freePort())", hubKey: hubKey)
    }

    /// Prepares a node of `node` whose hub is at `hubURL` with the public key file `hubKey`.
    public init(in parent: URL, node: String, hubURL: String, hubKey: URL, pushIdleMilliseconds: Int = 100) async throws {
        directory = parent.appendingPathComponent("node-\(node)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.node = node
        port = LoopbackHTTP.freePort()
        let key = directory.appendingPathComponent("node.key")
        if !FileManager.default.fileExists(atPath: key.path) {
            let signing = SigningKey()
            try KeyFile.writePrivate(signing, to: key)
            try KeyFile.writePublic(signing.publicKey, to: directory.appendingPathComponent("node.pub"))
        }
        config = directory.appendingPathComponent("node.conf.json")
        let text = """
        // test node \(node)
        {
          "node": {"id": "\(node)", "name": "test \(node)"},
          "listen": {"host": "127.0.0.1", "port": \(port)},
          "database": "node.sqlite",
          "signingKey": "node.key",
          "hub": {"url": "\(hubURL)", "id": "360000", "publicKeys": ["\(hubKey.path)"]},
          "push": {"idleMilliseconds": \(pushIdleMilliseconds), "maxBackoffSeconds": 1}
        }
        """
        try Data(text.utf8).write(to: config)
        unit = SyntheticRecordsUnit.regulator(node)
        let out = try await CLI.run(["node", "provider", "add", "--config", config.path, "--name", "test provider", "--unit", unit])
        guard out.status == 0, let token = out.stdout.split(separator: "\n").last.map(String.init), token.hasPrefix("cs_") else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "provider add failed: \(out.stdout)\(out.stderr)"])
        }
        self.token = token
    }

    /// The node's public key.
    public var publicKeyFile: URL { directory.appendingPathComponent("node.pub") }

    /// Starts the daemon.
    public func start() throws -> DaemonProcess {
        try DaemonProcess(["node", "--config", config.path, "--log-level", "info"], log: directory.appendingPathComponent("node.log"))
    }

    public var auth: [String: String] { ["Authorization": "Bearer \(token)", "Content-Type": "application/json"] }
}

import CreditData

/// The provider unit synthetic records of a city use.
enum SyntheticRecordsUnit {
    static func regulator(_ node: String) -> String { SyntheticRecords(division: node).regulatorCode }
}
