public import Foundation
import Synchronization
import SyncTransport

/// The hub's memory of request nonces (`Protocol/hub-api.md`, Authentication): a signed request
/// is taken once. A nonce is remembered for twice the clock skew the hub allows; a request
/// signed before this hub process started is refused, since the nonces seen before are gone.
public final class ReplayGuard: Sendable {
    private struct State {
        var seen: [String: Date] = [:]
    }

    private let state = Mutex(State())
    private let startedAt: Date
    /// Nonces remembered at most; past that the oldest are forgotten first once expired, and a
    /// request is refused while none has expired (a flood cannot make the hub forget a fresh one).
    let capacity: Int

    public init(startedAt: Date, capacity: Int = 500_000) {
        self.startedAt = startedAt
        self.capacity = capacity
    }

    /// Takes the request with `nonce` of `node`, signed at `timestamp` (Unix seconds), or
    /// returns why not.
    public func admit(node: String, nonce: String, timestamp: Int64, now: Date) -> String? {
        if TimeInterval(timestamp) < startedAt.timeIntervalSince1970.rounded(.down) {
            return "the request was signed before this hub started; sign it again"
        }
        let key = "\(node) \(nonce)"
        let horizon = now.addingTimeInterval(-2 * RequestSignature.maxSkew)
        return state.withLock { state in
            if let seen = state.seen[key], seen > horizon { return "the request was already taken (a replay)" }
            if state.seen.count >= capacity {
                state.seen = state.seen.filter { $0.value > horizon }
                if state.seen.count >= capacity { return "too many requests in the last \(Int(2 * RequestSignature.maxSkew)) s; try again" }
            }
            state.seen[key] = now
            return nil
        }
    }
}
