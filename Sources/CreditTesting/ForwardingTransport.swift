public import SyncProtocol
public import SyncTransport

/// A link to a hub that forwards every request as it is: tests that watch, count or break some
/// requests subclass it and override only those.
open class ForwardingTransport: HubTransport, @unchecked Sendable {
    public let inner: any HubTransport

    public init(_ inner: any HubTransport) { self.inner = inner }

    open func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
        try await inner.push(node: node, envelope: envelope, pinned: pinned)
    }

    open func consistencyProof(first: UInt64, second: UInt64) async throws(TransportError) -> [Hash32] {
        try await inner.consistencyProof(first: first, second: second)
    }

    open func position(node: String) async throws(TransportError) -> HubPosition { try await inner.position(node: node) }

    open func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
        try await inner.pull(node: node, request)
    }

    open func acknowledge(node: String, through: UInt64) async throws(TransportError) {
        try await inner.acknowledge(node: node, through: through)
    }

    open func recover(node: String, after: UInt64) async throws(TransportError) -> [UInt8] { try await inner.recover(node: node, after: after) }

    open func refusals(node: String, after: UInt64) async throws(TransportError) -> [UInt8] { try await inner.refusals(node: node, after: after) }
    open func subjectAttestation(node: String, subject: String) async throws(TransportError) -> [UInt8] {
        try await inner.subjectAttestation(node: node, subject: subject)
    }

    open func referenceManifest() async throws(TransportError) -> [UInt8] { try await inner.referenceManifest() }

    open func referenceFile(_ path: String) async throws(TransportError) -> [UInt8] { try await inner.referenceFile(path) }
}
