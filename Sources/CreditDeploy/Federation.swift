import AsyncHTTPClient
public import CreditCore
import CreditData
public import CreditHub
import CreditNode
import CreditStorage
public import Foundation
import NIOCore
import SyncProtocol

/// A whole federation on one machine: the hub and every node of a ``Deployment`` as separate
/// processes of this binary, on loopback, each with its SQLite store. What `creditsync demo`
/// runs and the end-to-end tests build on.
public final class Federation: @unchecked Sendable {
    public let deployment: Deployment
    public let executable: URL
    public let logs: URL
    public private(set) var hubProcess: Process?
    public private(set) var nodeProcesses: [String: Process] = [:]
    /// Provider tokens, per node.
    public private(set) var tokens: [String: String] = [:]
    /// The hub's operator bearer token, when its configuration names a `tokenFile`.
    public var operatorToken: String?

    public init(deployment: Deployment, executable: URL) {
        self.deployment = deployment
        self.executable = executable
        logs = deployment.directory.appendingPathComponent("logs", isDirectory: true)
    }

    /// Enrolls every node at the hub and gives each node a provider credential for the synthetic
    /// regulator of its city, before any daemon starts.
    public func prepare() throws {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let (_, hubStore) = try openHubStore(configPath: deployment.hubConfig.path)
        for node in deployment.nodes {
            let key = try KeyFile.readPublic(deployment.nodeDirectory(node.id).appendingPathComponent("node.key.pub"))
            try hubStore.addNode(id: node.id, name: node.name, key: key, at: Date())
            let store = try NodeStore(path: deployment.nodeDirectory(node.id).appendingPathComponent("node.sqlite").path, role: .operator)
            let unit = SyntheticRecords(division: node.id).regulatorCode
            tokens[node.id] = try store.addCredential(name: "\(node.name)市场监督管理局", unit: try UnifiedSocialCreditCode.parse(unit), writeItems: nil, readScope: .all, at: Date()).token
        }
    }

    /// Starts the hub and every node.
    public func start() throws {
        hubProcess = try spawn(["hub", "--config", deployment.hubConfig.path], log: "hub.log")
        for node in deployment.nodes { try startNode(node.id) }
    }

    /// Starts (or restarts) one node.
    public func startNode(_ id: String) throws {
        nodeProcesses[id] = try spawn(["node", "--config", deployment.nodeConfig(id).path], log: "node-\(id).log")
    }

    func spawn(_ arguments: [String], log: String) throws -> Process {
        let url = logs.appendingPathComponent(log)
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Waits until the hub and every node started answer `/healthz`. A daemon that exits meanwhile fails
    /// the wait at once, with the end of its log in the error, rather than after `seconds`.
    public func waitUntilHealthy(seconds: Double = 60) async throws {
        let sites = [(deployment.hubURL, hubProcess, "hub.log")]
                  + deployment.nodes.filter { nodeProcesses[$0.id] != nil }.map { (deployment.nodeURL($0), nodeProcesses[$0.id], "node-\($0.id).log") }
        let deadline = Date().addingTimeInterval(seconds)
        for (url, process, log) in sites {
            while true {
                if let reply = try? await Self.request(url + "/healthz", timeout: 2), reply.status == 200 { break }
                if let process, !process.isRunning {
                    throw FederationError("\(url) exited with status \(process.terminationStatus) before it became healthy; "
                                        + "the end of \(log):\n\(logTail(log))")
                }
                if Date() > deadline {
                    throw FederationError("\(url) did not become healthy in \(Int(seconds)) s; the end of \(log):\n\(logTail(log))")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The last lines of one daemon's log, for an error message.
    func logTail(_ name: String, lines: Int = 20) -> String {
        let text = (try? String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)) ?? "(no log)"
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// SIGTERM to every process, then waits for them.
    public func stop() {
        let all = Array(nodeProcesses.values) + [hubProcess].compactMap { $0 }
        for p in all where p.isRunning { p.terminate() }
        for p in all { p.waitWithoutSpinning() }
    }

    /// SIGKILL to one node, as a crash.
    public func kill9(node id: String) {
        guard let p = nodeProcesses[id] else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitWithoutSpinning()
    }

    /// SIGKILL to the hub.
    public func kill9Hub() {
        guard let p = hubProcess else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitWithoutSpinning()
    }

    /// Restarts the hub.
    public func startHub() throws {
        hubProcess = try spawn(["hub", "--config", deployment.hubConfig.path], log: "hub.log")
    }

    /// The hub's status; `windows` picks the windows listed (`attention`, `closed`, `all`).
    public func status(windows: String = "attention") async throws -> HubService.Snapshot {
        let reply = try await Self.request(deployment.hubOperatorURL + "/v1/status?windows=\(windows)", token: operatorToken)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(HubService.Snapshot.self, from: Data(reply.body.utf8))
    }

    /// Posts records (JSON) to a node as its provider.
    public func submit(node: String, records: [CreditRecord]) async throws -> (accepted: Int, duplicate: Int, rejected: Int) {
        let body = try JSONEncoder().encode(records)
        let reply = try await Self.request(deployment.nodeURL(site(node)) + "/v1/records", method: "POST", body: body, token: tokens[node])
        guard reply.status == 200, let json = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any] else {
            throw FederationError("node \(node) answered \(reply.status): \(reply.body.prefix(300))")
        }
        return (json["accepted"] as? Int ?? 0, json["duplicate"] as? Int ?? 0, json["rejected"] as? Int ?? 0)
    }

    /// Corrects or revokes a record at a node as its provider.
    public func amend(node: String, item: String, recordId: String, action: String, body: [String: Any]) async throws -> Int {
        let data = try JSONSerialization.data(withJSONObject: body)
        let path = "/v1/records/\(item)/\(recordId.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? recordId)/\(action)"
        return try await Self.request(deployment.nodeURL(site(node)) + path, method: "POST", body: data, token: tokens[node]).status
    }

    func site(_ id: String) -> Deployment.Site { deployment.nodes.first { $0.id == id }! }

    /// Waits until every node has applied everything and the hub's corrections are all fixed,
    /// and then until every node's state digest is the hub's (``checkConvergence()``): after a
    /// hub restore a node's fan-out position can pass the restored log's size on the old log's
    /// entries before it has read the new ones.
    public func waitForConvergence(seconds: Double = 120, expectedHubLog: UInt64? = nil) async throws -> HubService.Snapshot {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let s = try? await status(), s.nodes.allSatisfy({ $0.lagChanges == 0 }),
               expectedHubLog.map({ s.hubLogSize >= $0 }) ?? true,
               s.corrections.allSatisfy({ $0.row.completedAt != nil }) {
                let pushedAll = try deployment.nodes.allSatisfy { node in
                    let local = try NodeStore(path: deployment.nodeDirectory(node.id).appendingPathComponent("node.sqlite").path,
                                              role: .operator)
                    let state = try local.pushState()
                    // A node restored from a backup has not converged until it has caught up with the
                    // hub, and read its fan-out to the end again: the hub's lag for it is the position
                    // it acknowledged before the restore.
                    return try state.acknowledged == state.logSize && !local.isRestorePending() && local.fanOutPosition() >= s.hubLogSize
                }
                if pushedAll, (try? checkConvergence())?.isEmpty == true { return s }
            }
            if Date() > deadline { throw FederationError("the federation did not converge within \(Int(seconds)) s; see \(logs.path)") }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Whether every node's view of the shared records equals the hub's: the same record keys,
    /// with the same status and (for live records) the same content — the state digest of
    /// `Protocol/merge.md` §5, as `creditsync digest` prints it.
    public func checkConvergence() throws -> [String] {
        let hub = try StateDigest.compute(path: deployment.directory.appendingPathComponent("hub/hub.sqlite").path)
        var problems: [String] = []
        for node in deployment.nodes {
            let view = try StateDigest.compute(path: deployment.nodeDirectory(node.id).appendingPathComponent("node.sqlite").path)
            if view.digest != hub.digest { problems.append("node \(node.id) holds \(view.records) records that differ from the hub's \(hub.records)") }
        }
        return problems
    }

    struct Reply { var status: Int; var body: String }

    static func request(_ url: String, method: String = "GET", body: Data? = nil, token: String? = nil, timeout: Int64 = 60) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Connection", value: "close")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: buffer))
    }
}

/// A federation step that did not work, with where to look.
public struct FederationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
