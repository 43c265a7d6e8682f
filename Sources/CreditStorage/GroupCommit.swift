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
    /// One caller's write: `run` does it inside the batch's transaction and keeps its outcome;
    /// `finish` hands the outcome over once the transaction has committed, or the
    /// transaction's own error when it has not.
    private struct Job: Sendable {
        let run: @Sendable (Database) -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    /// Where a job keeps its outcome between its savepoint and the commit.
    private final class Outcome<T: Sendable>: Sendable {
        let value = Mutex<Result<T, any Error>?>(nil)
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
    /// - Parameter queued: called once the write is in the queue, before it runs: writes queued
    ///   after that moment run after it (the hub lets a node's next change set in from here).
    public func submit<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T,
                                    queued: (@Sendable () -> Void)? = nil) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            let job = Job(run: { db in
                do {
                    try db.inSavepoint {
                        let value = try body(db)
                        outcome.value.withLock { $0 = .success(value) }
                        return .commit
                    }
                } catch {
                    outcome.value.withLock { $0 = .failure(error) }
                }
            }, finish: { transactionError in
                if let transactionError { return continuation.resume(throwing: transactionError) }
                continuation.resume(with: outcome.value.withLock { $0 } ?? .failure(CancellationError()))
            })
            let start = state.withLock { state -> Bool in
                state.jobs.append(job)
                defer { state.draining = true }
                return !state.draining
            }
            queued?()
            if start { Task { await self.drain() } }
        }
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
            do {
                try await writer.write { db in
                    for job in jobs { job.run(db) }
                }
                for job in jobs { job.finish(nil) }
            } catch {
                // The transaction itself failed (its commit, or the disk): nothing in it happened.
                for job in jobs { job.finish(error) }
            }
        }
    }
}
