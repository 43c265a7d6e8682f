import Foundation
public import SyncTransport
public import SyncProtocol

/// The node–hub transport wired straight to a real ``HubService`` in the same process: the hub's
/// full logic and store without sockets, for contract tests and virtual-time simulations.
public struct LocalHubTransport: HubTransport {
    public let hub: HubService

    public init(hub: HubService) { self.hub = hub }

    public func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
        do {
            if let pinned { try hub.checkPinned(node: node, head: pinned) }
            return try await hub.ingest(node: node, envelope: envelope)
        } catch { throw Self.transportError(error) }
    }

    public func consistencyProof(first: UInt64, second: UInt64) async throws(TransportError) -> [Hash32] {
        try map { try hub.consistencyProof(first: first, second: second) }
    }

    public func position(node: String) async throws(TransportError) -> HubPosition {
        try map {
            guard let p = try hub.store.position(node: node) else { throw HubError(.notFound, "unknown-node", node) }
            return p
        }
    }

    public func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
        do { return try await hub.fanOut(node: node, request) } catch { throw Self.transportError(error) }
    }

    public func acknowledge(node: String, through: UInt64) async throws(TransportError) {
        do { try await hub.acknowledge(node: node, through: through) } catch { throw Self.transportError(error) }
    }

    public func recover(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        try map { try hub.recover(node: node, after: after) }
    }

    public func refusals(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        try map { try hub.refusals(node: node, after: after) }
    }

    public func subjectAttestation(node: String, subject: String) async throws(TransportError) -> [UInt8] {
        try map { try hub.subjectAttestation(node: node, subject: subject) }
    }

    public func referenceManifest() async throws(TransportError) -> [UInt8] { try map { try hub.referenceManifest() } }

    public func referenceFile(_ path: String) async throws(TransportError) -> [UInt8] { try map { try hub.referenceFile(path) } }

    func map<T>(_ body: () throws -> T) throws(TransportError) -> T {
        do { return try body() } catch { throw Self.transportError(error) }
    }

    static func transportError(_ error: any Error) -> TransportError {
        guard let e = error as? HubError else { return .server(status: 500, message: "\(error)") }
        if e.code == "gap", let expected = e.expected { return .gap(expected: expected) }
        return Int(e.status.code) >= 500 ? .server(status: Int(e.status.code), message: e.message)
            : .refused(status: Int(e.status.code), code: e.code, message: e.message)
    }
}
