public import Foundation
import Synchronization
import SyncTransport

/// The hub's memory of request nonces (`Protocol/hub-api.md`, Authentication): a signed request
/// is taken once. A nonce is remembered for twice the clock skew the hub allows; a request
/// signed before this hub process started is refused, since the nonces seen before are gone.
public final class ReplayGuard: Sendable {
    private struct State {
        /// Each node's nonces, with when they were taken.
        var seen: [String: [String: Date]] = [:]
        /// The oldest nonce of each node's map when it was last cleared of the expired: until
        /// then nothing of it can expire, and a node at its share is refused without a scan.
        var oldest: [String: Date] = [:]
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

    /// Takes the request with `nonce` of `node`, signed at `timestamp` (Unix seconds), or
    /// returns why not.
    public func admit(node: String, nonce: String, timestamp: Int64, now: Date) -> String? {
        if TimeInterval(timestamp) < startedAt.timeIntervalSince1970.rounded(.down) {
            return "the request was signed before this hub started; sign it again"
        }
        let horizon = now.addingTimeInterval(-2 * RequestSignature.maxSkew)
        return state.withLock { state in
            if let seen = state.seen[node]?[nonce], seen > horizon { return "the request was already taken (a replay)" }
            // Each node's map is changed in place: a copy per request would cost its size.
            if state.seen[node, default: [:]].count >= capacityPerNode || state.total >= capacity {
                // The expired go first: this node's, then, if the hub is full, everyone's.
                if state.oldest[node].map({ $0 <= horizon }) ?? true {
                    state.total -= Self.forgetExpired(&state.seen[node, default: [:]], before: horizon)
                    state.oldest[node] = state.seen[node]?.values.min()
                }
                if state.seen[node, default: [:]].count >= capacityPerNode {
                    return "node \(node) made over \(capacityPerNode) requests in the last \(Int(2 * RequestSignature.maxSkew)) s; try again"
                }
                if state.total >= capacity {
                    for other in Array(state.seen.keys) where other != node {
                        state.total -= Self.forgetExpired(&state.seen[other, default: [:]], before: horizon)
                        state.oldest[other] = state.seen[other]?.values.min()
                    }
                }
                if state.total >= capacity { return "too many requests in the last \(Int(2 * RequestSignature.maxSkew)) s; try again" }
            }
            state.seen[node, default: [:]][nonce] = now
            state.total += 1
            return nil
        }
    }

    /// Forgets the nonces taken before `horizon`; returns how many.
    private static func forgetExpired(_ nonces: inout [String: Date], before horizon: Date) -> Int {
        let held = nonces.count
        nonces = nonces.filter { $0.value > horizon }
        return held - nonces.count
    }
}
