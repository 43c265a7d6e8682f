public import GRDB
import Synchronization

/// Runs writes that arrive while the writer is busy together, in one transaction, each in its
/// own savepoint: one commit — one fsync — for all of them.
///
/// Eleven city nodes push to the hub at once. Committing each change set on its own makes the
/// writer wait for the disk once per set; gathered, the sets waiting behind one commit share
/// the next. Every caller still gets its own result only after the transaction holding its write
/// has committed, and a write that throws rolls back its savepoint alone: its caller gets the
/// error, the others commit.
public final class GroupCommit: Sendable {
    private struct Job {
        let body: @Sendable (Database) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct State {
        var jobs: [Job] = []
        var draining = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// The most writes gathered into one transaction, to bound its size and its callers' wait.
    public let maxWrites: Int

    public init(writer: any DatabaseWriter, maxWrites: Int = 16) {
        self.writer = writer
        self.maxWrites = maxWrites
    }

    /// Runs `body` in a savepoint of the next transaction and returns its result once that
    /// transaction has committed.
    public func submit<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let start = state.withLock { state -> Bool in
                state.jobs.append(Job(body: { try body($0) }, continuation: continuation))
                defer { state.draining = true }
                return !state.draining
            }
            if start { Task { await self.drain() } }
        }
        return result as! T // swiftlint:disable:this force_cast — the job stored for this call returned a T
    }

    /// Commits batches until no write is waiting.
    private func drain() async {
        while true {
            let jobs = state.withLock { state -> [Job] in
                let batch = Array(state.jobs.prefix(maxWrites))
                state.jobs.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if jobs.isEmpty { return }
            let bodies = jobs.map(\.body)
            do {
                let results = try await writer.write { db -> [Result<any Sendable, any Error>] in
                    bodies.map { body in
                        var result: Result<any Sendable, any Error> = .failure(CancellationError())
                        do {
                            try db.inSavepoint {
                                result = .success(try body(db))
                                return .commit
                            }
                        } catch {
                            result = .failure(error)
                        }
                        return result
                    }
                }
                for (job, result) in zip(jobs, results) { job.continuation.resume(with: result) }
            } catch {
                // The transaction itself failed (its commit, or the disk): nothing in it happened.
                for job in jobs { job.continuation.resume(throwing: error) }
            }
        }
    }
}
