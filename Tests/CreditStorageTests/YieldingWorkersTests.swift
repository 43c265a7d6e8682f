import CreditStorage
import Foundation
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

    @Test func theThreadsRunBelowTheCallersPriority() async throws {
        #if os(Linux)
        let outside = try #require(YieldingWorkers.currentNiceness())
        let workers = YieldingWorkers(threads: 1, niceness: 5, lonesInline: false)
        #expect(try await workers.run { YieldingWorkers.currentNiceness() } == min(19, outside + 5))
        #endif
    }

    /// A job with none queued or running before it runs on its caller, at the caller's priority.
    /// (Holding one job to queue a second behind it would block a thread of the tests' shared
    /// pool, two on this machine, and stall every other test meanwhile.)
    @Test func aLoneJobRunsAtItsCallersPriority() async throws {
        #if os(Linux)
        let outside = try #require(YieldingWorkers.currentNiceness())
        let workers = YieldingWorkers(threads: 1, niceness: 5)
        #expect(try await workers.run { YieldingWorkers.currentNiceness() } == outside)
        #endif
    }
}
