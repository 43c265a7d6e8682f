import CreditStorage
import Foundation
import Synchronization
import Testing

/// The threads that prepare work for a store's writer run it, hand back results and errors, and
/// run a backlog below the writer in priority.
@Suite struct YieldingWorkersTests {
    struct Refused: Error, Equatable { let n: Int }

    @Test func everyJobRunsOnceAndGetsItsOwnResult() async throws {
        let workers = YieldingWorkers(threads: 2)
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for i in 0..<200 { group.addTask { (i, try await workers.run { i * i }) } }
            var all: [Int: Int] = [:]
            for try await (i, square) in group { all[i] = square }
            return all
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { $0.value == $0.key * $0.key })
    }

    @Test func aJobsErrorReachesItsCaller() async throws {
        let workers = YieldingWorkers(threads: 1)
        await #expect(throws: Refused(n: 7)) { try await workers.run { () throws -> Int in throw Refused(n: 7) } }
        // The thread survives the error and takes the next job.
        #expect(try await workers.run { 41 + 1 } == 42)
    }

    @Test func aBacklogRunsBelowTheCallersPriorityAndALoneJobAtIt() async throws {
        #if os(Linux)
        let outside = try #require(YieldingWorkers.currentNiceness())
        let workers = YieldingWorkers(threads: 1, niceness: 5)
        // Alone: on the caller's thread, at its priority.
        #expect(try await workers.run { YieldingWorkers.currentNiceness() } == outside)
        // Behind a job still running: on the workers' thread, below. The first job holds the
        // caller's thread (a pool thread) only until the second is queued, tens of milliseconds.
        let release = DispatchSemaphore(value: 0), started = Mutex(false)
        async let first: Int32? = workers.run {
            started.withLock { $0 = true }
            _ = release.wait(timeout: .now() + 5)
            return YieldingWorkers.currentNiceness()
        }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        async let second: Int32? = workers.run { YieldingWorkers.currentNiceness() }
        try await Task.sleep(for: .milliseconds(20))
        release.signal()
        #expect(try await first == outside)
        #expect(try await second == min(19, outside + 5))
        #endif
    }
}
