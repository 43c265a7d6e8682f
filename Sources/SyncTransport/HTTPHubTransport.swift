public import AsyncHTTPClient
public import Foundation
public import NIOCore
import NIOHTTP1
public import SyncProtocol
import CreditCore

/// ``HubTransport`` over HTTP(S) with AsyncHTTPClient.
public struct HTTPHubTransport: HubTransport {
    private let client: HTTPClient
    private let baseURL: String
    private let node: String
    private let key: SigningKey
    private let hub: String
    private let hubKeys: KeyRegistry
    private let timeout: TimeAmount
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - client: a shared client; its lifetime is the caller's.
    ///   - baseURL: the hub's URL, `http(s)://host:port`, no trailing slash.
    ///   - node: this node's id; `key` signs its reads and acknowledgements.
    ///   - hub, hubKeys: the hub and its pinned keys, which must have signed its position answers.
    public init(client: HTTPClient, baseURL: String, node: String, key: SigningKey, hub: String = "360000", hubKeys: KeyRegistry,
                timeout: TimeAmount = .seconds(30), now: @escaping @Sendable () -> Date = Date.init) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.node = node
        self.key = key
        self.hub = hub
        self.hubKeys = hubKeys
        self.timeout = timeout
        self.now = now
    }

    public func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
        let target = HubPaths.changeSets(node: node) + (pinned.map { "?pinned=\($0.size):\($0.root.hex)" } ?? "")
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: HubPaths.envelopeType)
        return try await send(request, target: target, sign: true, body: envelope)
    }

    /// The hub log's signed tree head, verified with the pinned hub keys.
    public func treeHead() async throws(TransportError) -> SignedTreeHead {
        var request = HTTPClientRequest(url: baseURL + HubPaths.logHead)
        request.method = .GET
        let body = try await send(request, target: HubPaths.logHead)
        do { return try SignedTreeHead.open(body, signer: hub, keys: hubKeys) } catch {
            throw .refused(status: 200, code: "unsigned-head", message: "the hub's tree head does not verify: \(error)")
        }
    }

    public func consistencyProof(first: UInt64, second: UInt64) async throws(TransportError) -> [Hash32] {
        let target = HubPaths.consistency + "?first=\(first)&second=\(second)"
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .GET
        let body = try await send(request, target: target)
        guard let answer = try? JSONValue.decode(ConsistencyProofAnswer.self, from: body),
              answer.first == first, answer.second == second, answer.proof.count <= 64 else {
            throw .refused(status: 200, code: "bad-proof", message: "the hub's consistency answer for \(first)…\(second) is malformed")
        }
        var proof: [Hash32] = []
        for hex in answer.proof {
            guard let hash = Hash32(hex: hex) else { throw .refused(status: 200, code: "bad-proof", message: "'\(hex.prefix(80))' is not a hash") }
            proof.append(hash)
        }
        return proof
    }

    public func position(node: String) async throws(TransportError) -> HubPosition {
        let target = HubPaths.position(node: node)
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .GET
        let body = try await send(request, target: target, sign: true)
        do { return try SignedPosition.open(body, hub: hub, keys: hubKeys, node: node).position } catch {
            throw .refused(status: 200, code: "unsigned-position", message: "the hub's position answer does not verify: \(error)")
        }
    }

    public func subjectAttestation(node: String, subject: String) async throws(TransportError) -> [UInt8] {
        let target = HubPaths.subject(node: node, subject: subject)
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .GET
        return try await send(request, target: target, sign: true)
    }

    public func pull(node: String, _ fanOut: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
        let target = HubPaths.fanOut(node: node) + fanOut.query
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .GET
        let (headers, body) = try await exchange(request, target: target, sign: true, timeout: timeout + .seconds(Int64(fanOut.waitSeconds)))
        // A header that does not parse is as good as none: the receiver asks for the proof itself.
        let consistency = headers.first(name: FanOutAnswer.Consistency.header).flatMap(FanOutAnswer.Consistency.init(headerValue:))
        return FanOutAnswer(batch: body, consistency: consistency)
    }

    public func acknowledge(node: String, through: UInt64) async throws(TransportError) {
        let target = HubPaths.fanOutAck(node: node)
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        _ = try await send(request, target: target, sign: true, body: Array("{\"through\":\(through)}".utf8))
    }

    public func recover(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        let target = HubPaths.recover(node: node) + "?after=\(after)"
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .GET
        return try await send(request, target: target, sign: true)
    }

    public func refusals(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        let target = HubPaths.refusals(node: node) + "?after=\(after)"
        var request = HTTPClientRequest(url: baseURL + target)
        request.method = .GET
        return try await send(request, target: target, sign: true)
    }

    public func referenceManifest() async throws(TransportError) -> [UInt8] {
        var request = HTTPClientRequest(url: baseURL + HubPaths.reference)
        request.method = .GET
        return try await send(request, target: HubPaths.reference)
    }

    public func referenceFile(_ path: String) async throws(TransportError) -> [UInt8] {
        var request = HTTPClientRequest(url: baseURL + HubPaths.reference + "/" + path)
        request.method = .GET
        return try await send(request, target: HubPaths.reference + "/" + path)
    }

    private func send(_ request: HTTPClientRequest, target: String, sign: Bool = false, body signedBody: [UInt8] = [],
                      timeout: TimeAmount? = nil) async throws(TransportError) -> [UInt8] {
        try await exchange(request, target: target, sign: sign, body: signedBody, timeout: timeout).body
    }

    /// Sends a request and returns the response's headers and body, or the error it answered.
    ///
    /// A signed request the hub refuses `replayed` is signed again and sent once more at once: a
    /// request signed while the hub was down, which reached it only after it started again, is
    /// refused so (hub-api.md, Authentication), and the hub acted on nothing it refused.
    private func exchange(_ request: HTTPClientRequest, target: String, sign: Bool = false, body signedBody: [UInt8] = [],
                          timeout: TimeAmount? = nil) async throws(TransportError) -> (headers: HTTPHeaders, body: [UInt8]) {
        do {
            return try await exchangeOnce(request, target: target, sign: sign, body: signedBody, timeout: timeout)
        } catch .refused(401, "replayed", _) where sign {
            return try await exchangeOnce(request, target: target, sign: sign, body: signedBody, timeout: timeout)
        }
    }

    private func exchangeOnce(_ request: HTTPClientRequest, target: String, sign: Bool, body signedBody: [UInt8],
                              timeout: TimeAmount?) async throws(TransportError) -> (headers: HTTPHeaders, body: [UInt8]) {
        var request = request
        request.headers.replaceOrAdd(name: "User-Agent", value: "creditsync-node/\(BuildInfo.version)")
        if !signedBody.isEmpty { request.body = .bytes(ByteBuffer(bytes: signedBody)) }
        if sign {
            do {
                request.headers.add(name: "Authorization", value: try RequestSignature.header(
                    node: node, key: key, method: request.method.rawValue, target: target, body: signedBody, now: now()))
            } catch {
                throw .refused(status: 0, code: "signing", message: "\(error)")
            }
        }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout ?? self.timeout)
            body = try await response.body.collect(upTo: Envelope.maxBytes + 1024)
        } catch {
            throw .unreachable("\(error)")
        }
        let bytes = Array(body.readableBytesView)
        switch response.status.code {
        case 200..<300: return (response.headers, bytes)
        default: throw Self.error(status: Int(response.status.code), body: bytes)
        }
    }

    /// Maps a hub error response (`{"code": …, "message": …, "expected": …}`) to a transport error.
    static func error(status: Int, body: [UInt8]) -> TransportError {
        struct Problem: Decodable { var code: String?; var message: String?; var expected: UInt64? }
        let problem = try? JSONDecoder().decode(Problem.self, from: Data(body))
        if status == 409, let expected = problem?.expected { return .gap(expected: expected) }
        let message = problem?.message ?? String(decoding: body.prefix(500), as: UTF8.self)
        if status >= 500 || status == 429 { return .server(status: status, message: message) }
        return .refused(status: status, code: problem?.code ?? "http-\(status)", message: message)
    }
}
