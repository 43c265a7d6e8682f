@testable import CreditHub
import Foundation
import Testing

/// The hub's nonce memory: a request is taken once, and one node's flood of requests uses up
/// its own share, not the province's.
@Suite struct ReplayGuardTests {
    let start = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func aNodeFloodingRequestsIsRefusedAloneAndAgainOnceItsNoncesExpire() {
        let guard_ = ReplayGuard(startedAt: start, capacity: 8, capacityPerNode: 5)
        let ts = Int64(start.timeIntervalSince1970) + 1
        func nonce(_ i: Int) -> String { String(format: "%016x", i) }
        for i in 0..<5 { #expect(guard_.admit(node: "360100", nonce: nonce(i), timestamp: ts, now: start) == nil) }
        #expect(guard_.admit(node: "360100", nonce: nonce(0), timestamp: ts, now: start)?.contains("replay") == true)
        #expect(guard_.admit(node: "360100", nonce: nonce(5), timestamp: ts, now: start)?.contains("node 360100 made over 5 requests") == true)
        // Another node is let in, up to what the hub remembers in all.
        for i in 0..<3 { #expect(guard_.admit(node: "360700", nonce: nonce(i), timestamp: ts, now: start) == nil) }
        #expect(guard_.admit(node: "360700", nonce: nonce(3), timestamp: ts, now: start)?.contains("too many requests") == true)
        // Twenty minutes on, the flood's nonces have expired (a replay of them is stale by then).
        let later = start.addingTimeInterval(1_201)
        #expect(guard_.admit(node: "360100", nonce: nonce(5), timestamp: ts + 1_201, now: later) == nil)
        #expect(guard_.admit(node: "360700", nonce: nonce(3), timestamp: ts + 1_201, now: later) == nil)
    }

    /// A node that sends the same nonces again each time they expire takes no more than its
    /// share, however long it goes on: what it took before is forgotten, not counted twice.
    @Test func noncesTakenAgainAfterTheyExpireAreCountedOnce() {
        let guard_ = ReplayGuard(startedAt: start, capacity: 8, capacityPerNode: 5)
        for round in 0..<10 {
            let now = start.addingTimeInterval(Double(round) * 1_201)
            let ts = Int64(now.timeIntervalSince1970) + 1
            for i in 0..<4 { #expect(guard_.admit(node: "360100", nonce: String(format: "%016x", i), timestamp: ts, now: now) == nil) }
            #expect(guard_.admit(node: "360700", nonce: String(format: "%016x", 100 + round), timestamp: ts, now: now) == nil,
                    "round \(round): another node is locked out")
        }
    }
}
