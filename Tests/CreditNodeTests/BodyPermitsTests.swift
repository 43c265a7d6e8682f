@testable import CreditNode
import Testing

/// ``BodyPermits``: a fixed number let in, the others served in the order they came, and one
/// that waited too long leaves the queue without a permit.
@Suite struct BodyPermitsTests {
    @Test func permitsAreHandedOnInOrderAndAWaitRunsOut() async throws {
        let permits = BodyPermits(1)
        #expect(await permits.acquire(within: 1))
        // Nothing free: a short wait runs out, and leaves no place in the queue behind it.
        #expect(await permits.acquire(within: 0.05) == false)
        #expect(permits.waiting == 0)
        // Two wait; the permit goes to the first, then to the second.
        let first = Task { await permits.acquire(within: 30) }
        while permits.waiting < 1 { await Task.yield() }
        let second = Task { await permits.acquire(within: 30) }
        while permits.waiting < 2 { await Task.yield() }
        permits.release()
        #expect(await first.value)
        #expect(permits.waiting == 1)
        permits.release()
        #expect(await second.value)
        permits.release()
        // Free again: taken at once.
        #expect(await permits.acquire(within: 0.01))
    }
}
