import CreditCore
import Foundation
public import SyncProtocol

/// How a node talks to the hub. The node's pusher and receiver see only this interface, so
/// tests run them against an in-memory hub with injected failures, and production uses
/// ``HTTPHubTransport``. The endpoints are specified in `Protocol/hub-api.md`.
public protocol HubTransport: Sendable {
    /// Pushes a signed change-set envelope (its exact bytes) and returns the hub's signed receipt
    /// envelope. `pinned` is the hub head the node pinned last: the hub reports it when its log
    /// does not contain it (`Protocol/hub-api.md`).
    /// - Throws: ``TransportError/gap(expected:)`` when the set does not continue where the hub's
    ///   acknowledged position for the node ends.
    func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8]

    /// The consistency proof of the hub log from its first `first` entries to its first
    /// `second` (`GET /v1/log/consistency`); the caller verifies it against signed heads.
    func consistencyProof(first: UInt64, second: UInt64) async throws(TransportError) -> [Hash32]

    /// The hub's acknowledged position for `node`: the last sequence it holds and the node-log
    /// tree head at that point.
    func position(node: String) async throws(TransportError) -> HubPosition

    /// Long-polls the hub's fan-out for `node` as `request` says. Returns the signed fan-out
    /// batch envelope (possibly empty) and the consistency proof the request asked for, when the
    /// hub sent one.
    func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer

    /// Tells the hub the node has applied its fan-out through hub position `through`.
    func acknowledge(node: String, through: UInt64) async throws(TransportError)

    /// The node's own changes after sequence `after`, as the hub holds them, in a hub-signed
    /// batch whose positions are sequence numbers: how a node restored from an older backup
    /// gets back what it had already pushed.
    func recover(node: String, after: UInt64) async throws(TransportError) -> [UInt8]

    /// The hub's signed list of this node's changes after sequence `after` that it refused to
    /// merge (``RefusalList``); the caller opens and checks it.
    func refusals(node: String, after: UInt64) async throws(TransportError) -> [UInt8]

    /// The hub's signed account of every record it holds about `subject`
    /// (``SubjectAttestation``), for a self-enquiry report at the node's desk.
    func subjectAttestation(node: String, subject: String) async throws(TransportError) -> [UInt8]

    /// The hub-signed manifest of the catalog layers and holiday files in force.
    func referenceManifest() async throws(TransportError) -> [UInt8]

    /// One file the manifest names (`catalog/NAME.json`, `calendar/NAME.json`).
    func referenceFile(_ path: String) async throws(TransportError) -> [UInt8]
}

extension HubTransport {
    /// Long-polls the fan-out after `after`, acknowledging `after`, without asking for a proof.
    public func pull(node: String, after: UInt64, waitSeconds: Int) async throws(TransportError) -> [UInt8] {
        try await pull(node: node, FanOutRequest(after: after, waitSeconds: waitSeconds)).batch
    }

    /// Pushes without a pinned hub head.
    public func push(node: String, envelope: [UInt8]) async throws(TransportError) -> [UInt8] {
        try await push(node: node, envelope: envelope, pinned: nil)
    }
}

/// The answer of `GET /v1/log/consistency`.
public struct ConsistencyProofAnswer: Sendable, Codable {
    public var first: UInt64
    public var second: UInt64
    /// Lowercase hex hashes.
    public var proof: [String]
}

/// The hub's view of one node's pushes.
public struct HubPosition: Sendable, Equatable, Codable {
    /// The last sequence number the hub holds for the node (0 when none).
    public var acknowledged: UInt64
    /// The node-log tree head the hub holds, as lowercase hex.
    public var treeRoot: String

    public init(acknowledged: UInt64, treeRoot: String) {
        self.acknowledged = acknowledged
        self.treeRoot = treeRoot
    }
}

/// The hub's signed answer to a position request: which node, what the hub holds of its log,
/// when. Signed because it steers the node's push recovery: a forged position could make a node
/// re-feed or skip what it should not.
public struct SignedPosition: SignedJSONAnswer, Equatable {
    public var node: String
    public var acknowledged: UInt64
    public var treeRoot: String
    /// When the hub answered, in milliseconds since 1970.
    public var at: UInt64

    public init(node: String, position: HubPosition, at: UInt64) {
        self.node = node
        acknowledged = position.acknowledged
        treeRoot = position.treeRoot
        self.at = at
    }

    public var position: HubPosition { HubPosition(acknowledged: acknowledged, treeRoot: treeRoot) }

    /// The envelope's payload type.
    public static let payloadType = Envelope.PayloadType.position

    /// Opens an answer signed by an active key of `hub`, for `node`.
    public static func open(_ bytes: [UInt8], hub: String, keys: KeyRegistry, node: String) throws -> SignedPosition {
        let position = try verified(bytes, hub: hub, keys: keys)
        guard position.node == node else { throw WireError.inconsistent("a position of node \(position.node) was answered to \(node)") }
        return position
    }
}

/// Why a hub exchange failed, sorted by what the caller should do about it.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The hub could not be reached or did not answer in time: retry later.
    case unreachable(String)
    /// The hub failed on its side (5xx): retry later.
    case server(status: Int, message: String)
    /// The change set does not continue where the hub's position ends (409).
    case gap(expected: UInt64)
    /// The hub refused the request for good (4xx other than 409): retrying the same bytes will not help.
    case refused(status: Int, code: String, message: String)

    /// Whether trying again later can succeed.
    public var isRetryable: Bool {
        switch self {
        case .unreachable, .server: true
        case .gap, .refused: false
        }
    }

    public var description: String {
        switch self {
        case let .unreachable(reason): "hub unreachable: \(reason)"
        case let .server(status, message): "hub error \(status): \(message)"
        case let .gap(expected): "hub expects sequence \(expected) next"
        case let .refused(status, code, message): "hub refused (\(status) \(code)): \(message)"
        }
    }
}
