import CreditCore
import CreditHub
import Foundation
public import SyncTransport
public import SyncProtocol

/// A node's link to the hub in a simulation: every request goes through the simulation's
/// network (``Simulation/deliver(_:from:)``), which may lose, hold back, duplicate or cut it.
public struct SimTransport: HubTransport {
    let node: String
    unowned let simulation: Simulation

    public func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
        try await simulation.deliver(.push(envelope, pinned: pinned), from: node)
    }

    public func consistencyProof(first: UInt64, second: UInt64) async throws(TransportError) -> [Hash32] {
        let bytes = try await simulation.deliver(.consistency(first: first, second: second), from: node)
        return stride(from: 0, to: bytes.count, by: 32).map { Hash32.from(Data(bytes[$0..<min($0 + 32, bytes.count)])) }
    }

    public func position(node: String) async throws(TransportError) -> HubPosition {
        let bytes = try await simulation.deliver(.position, from: node)
        guard let position = try? JSONValue.decode(HubPosition.self, from: Array(bytes)) else {
            throw .server(status: 500, message: "undecodable position")
        }
        return position
    }

    public func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
        Self.answer(try await simulation.deliver(.pull(request), from: node))
    }

    /// A fan-out answer on the simulated network: the consistency header's value (empty when
    /// none), a newline, and the batch envelope.
    static func encode(_ answer: FanOutAnswer) -> [UInt8] {
        Array((answer.consistency?.headerValue ?? "").utf8) + [0x0A] + answer.batch
    }

    static func answer(_ bytes: [UInt8]) -> FanOutAnswer {
        guard let newline = bytes.firstIndex(of: 0x0A) else { return FanOutAnswer(batch: bytes) }
        return FanOutAnswer(batch: Array(bytes[(newline + 1)...]),
                            consistency: FanOutAnswer.Consistency(headerValue: String(decoding: bytes[..<newline], as: UTF8.self)))
    }

    public func acknowledge(node: String, through: UInt64) async throws(TransportError) {
        _ = try await simulation.deliver(.acknowledge(through: through), from: node)
    }

    public func recover(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        try await simulation.deliver(.recover(after: after), from: node)
    }

    public func subjectAttestation(node: String, subject: String) async throws(TransportError) -> [UInt8] {
        try await simulation.deliver(.subject(subject), from: node)
    }

    public func refusals(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        try await simulation.deliver(.refusals(after: after), from: node)
    }

    public func referenceManifest() async throws(TransportError) -> [UInt8] {
        throw .unreachable("reference data is not distributed in a simulation")
    }

    public func referenceFile(_ path: String) async throws(TransportError) -> [UInt8] {
        throw .unreachable("reference data is not distributed in a simulation")
    }
}

/// A request on the simulated network.
enum SimRequest: Sendable {
    case push([UInt8], pinned: TreeHead?)
    case consistency(first: UInt64, second: UInt64)
    case position
    case pull(FanOutRequest)
    case acknowledge(through: UInt64)
    case recover(after: UInt64)
    case subject(String)
    case refusals(after: UInt64)

    var name: String {
        switch self {
        case .push: "push"
        case .consistency: "consistency"
        case .position: "position"
        case .pull: "pull"
        case .acknowledge: "ack"
        case .recover: "recover"
        case .subject: "subject"
        case .refusals: "refusals"
        }
    }

    /// Performs the request against the hub as it is now.
    func perform(on hub: HubService, from node: String) async throws(TransportError) -> [UInt8] {
        let local = LocalHubTransport(hub: hub)
        switch self {
        case let .push(envelope, pinned): return try await local.push(node: node, envelope: envelope, pinned: pinned)
        case let .consistency(first, second):
            return try await local.consistencyProof(first: first, second: second).flatMap(\.bytes)
        case .position:
            let p = try await local.position(node: node)
            return Array((try? JSONEncoder().encode(p)) ?? Data())
        case let .pull(request): return SimTransport.encode(try await local.pull(node: node, request))
        case let .acknowledge(through):
            try await local.acknowledge(node: node, through: through)
            return []
        case let .recover(after): return try await local.recover(node: node, after: after)
        case let .subject(subject): return try await local.subjectAttestation(node: node, subject: subject)
        case let .refusals(after): return try await local.refusals(node: node, after: after)
        }
    }
}
