public import Foundation
import Synchronization
import SyncTransport

/// The hub's memory of request nonces (`Protocol/hub-api.md`, Authentication): a signed request
/// is taken once. A nonce is remembered for twice the clock skew the hub allows; a request
/// signed before this hub process started is refused, since the nonces seen before are gone.
public final class ReplayGuard: Sendable {
    /// One node's nonces: which are remembered, and in the order taken, so that the expired
    /// are forgotten from the front, each once, rather than by a scan of them all.
    private struct Memory {
        var taken: Set<String> = []
        var order: [(nonce: String, at: Date)] = []
        var head = 0

        /// Forgets the nonces taken at or before `horizon`; returns how many.
        mutating func expire(through horizon: Date) -> Int {
            var gone = 0
            while head < order.count, order[head].at <= horizon {
                taken.remove(order[head].nonce)
                head += 1
                gone += 1
            }
            if head > 1024, head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
            return gone
        }
    }

    private struct State {
        var memory: [String: Memory] = [:]
        /// Nonces remembered, all nodes together.
        var total = 0
    }

    private let state = Mutex(State())
    private let startedAt: Date
    /// Nonces remembered at most, in all; past that the oldest are forgotten first once expired,
    /// and a request is refused while none has expired (a flood cannot make the hub forget a
    /// fresh one).
    let capacity: Int
    /// Nonces remembered at most for one node: a node that floods the hub with requests is
    /// refused once it has used its share, and cannot use up the others' (an honest node makes
    /// a few requests a second; the share is over 80 a second for the window's ten minutes).
    let capacityPerNode: Int

    public init(startedAt: Date, capacity: Int = 500_000, capacityPerNode: Int = 50_000) {
        self.startedAt = startedAt
        self.capacity = capacity
        self.capacityPerNode = capacityPerNode
    }

    /// Why a request signed before this hub process started is refused: what every node in
    /// flight meets once after a hub restart, and signs again for at once.
    public static let signedBeforeStart = "the request was signed before this hub started; sign it again"

    /// Takes the request with `nonce` of `node`, signed at `timestamp` (Unix seconds), or
    /// returns why not.
    public func admit(node: String, nonce: String, timestamp: Int64, now: Date) -> String? {
        if TimeInterval(timestamp) < startedAt.timeIntervalSince1970.rounded(.down) {
            return Self.signedBeforeStart
        }
        let horizon = now.addingTimeInterval(-2 * RequestSignature.maxSkew)
        return state.withLock { state in
            state.total -= state.memory[node, default: Memory()].expire(through: horizon)
            if state.memory[node]!.taken.contains(nonce) { return "the request was already taken (a replay)" }
            if state.memory[node]!.taken.count >= capacityPerNode {
                return "node \(node) made over \(capacityPerNode) requests in the last \(Int(2 * RequestSignature.maxSkew)) s; try again"
            }
            if state.total >= capacity {
                for other in Array(state.memory.keys) where other != node {
                    state.total -= state.memory[other]!.expire(through: horizon)
                }
                if state.total >= capacity { return "too many requests in the last \(Int(2 * RequestSignature.maxSkew)) s; try again" }
            }
            // Changed in place: a copy of the node's memory per request would cost its size.
            state.memory[node]!.taken.insert(nonce)
            state.memory[node]!.order.append((nonce, now))
            state.total += 1
            return nil
        }
    }
}
