import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Threads for the CPU work done before a store's single writer, scheduled below that writer.
///
/// A daemon's throughput is set by a pipeline: parallel work (verifying and preparing change
/// sets) feeds one serial stage, the SQLite writer. With two cores and three runnable threads the
/// kernel shares the cores evenly, so whenever the parallel work has a backlog the writer gets
/// two thirds of a core and the whole pipeline slows to that. Run at a higher nice value, the
/// parallel work takes whatever the writer leaves: the writer keeps a core whenever it has work,
/// and the other core (and the writer's, while it waits) still goes to preparation. Raising a
/// thread's nice value needs no privilege.
public final class YieldingWorkers: Sendable {
    /// The jobs waiting and the threads' wake-ups, shared with the threads.
    private final class Queue: Sendable {
        struct State {
            var jobs: [@Sendable () -> Void] = []
            var stopped = false
            /// Jobs queued or running, on the threads or on a caller's.
            var pending = 0
        }

        let state = Mutex(State())
        let available = DispatchSemaphore(value: 0)

        /// The next job, or `nil` once stopped with nothing left.
        func next() -> (@Sendable () -> Void)? {
            while true {
                available.wait()
                let (job, stopped) = state.withLock { state in
                    (state.jobs.isEmpty ? nil : state.jobs.removeFirst(), state.stopped)
                }
                if let job { return job }
                if stopped { return nil }
            }
        }
    }

    private let queue = Queue()
    private let threads: Int

    /// Whether a job that finds no other queued or running runs on its caller (see ``run(_:)``).
    let lonesInline: Bool

    /// Starts `threads` threads (one per core when `nil`), each `niceness` above the process's
    /// nice value (at most 19). With `lonesInline` false every job runs on the threads.
    public init(threads: Int? = nil, niceness: Int32 = 10, name: String = "creditsync-worker", lonesInline: Bool = true) {
        self.lonesInline = lonesInline
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        for i in 0..<self.threads {
            let queue = queue
            let thread = Thread {
                Self.lowerPriority(by: niceness)
                while let job = queue.next() { job() }
            }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    deinit {
        queue.state.withLock { $0.stopped = true }
        for _ in 0..<threads { queue.available.signal() }
    }

    /// Runs `body` and returns its result: on one of the threads when other jobs are queued or
    /// running, the calling task suspended meanwhile, not blocking a thread.
    ///
    /// A job that finds no other queued or running runs at once on the caller's thread, at the
    /// process's priority, and holds that thread while it runs (a change set of up to 16 MiB,
    /// verified and decoded): alone, it is a wait someone is timing (a province's lone change
    /// set), not a backlog that could slow the writer. Below the writer, such a set had waited
    /// behind the fan-out of 110 nodes sharing the machine, for up to half a second.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let alone = queue.state.withLock { state in
            state.pending += 1
            return state.pending == 1
        } && lonesInline
        if alone {
            defer { queue.state.withLock { $0.pending -= 1 } }
            return try body()
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let queue = queue
            queue.state.withLock {
                $0.jobs.append {
                    let result = Result { try body() }
                    queue.state.withLock { $0.pending -= 1 }
                    continuation.resume(with: result)
                }
            }
            queue.available.signal()
        }
    }

    /// Raises the calling thread's nice value by `delta`. Linux schedules threads one by one, so
    /// `setpriority` on the thread's id changes this thread alone.
    static func lowerPriority(by delta: Int32) {
        #if os(Linux)
        guard delta > 0, let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
              let tid = link.split(separator: "/").last.flatMap({ id_t($0) }) else { return }
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid)
        guard errno == 0 else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, min(19, current + delta))
        #endif
    }

    /// The calling thread's nice value (Linux), for tests.
    public static func currentNiceness() -> Int32? {
        #if os(Linux)
        guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
              let tid = link.split(separator: "/").last.flatMap({ id_t($0) }) else { return nil }
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid)
        #else
        return nil
        #endif
    }
}
