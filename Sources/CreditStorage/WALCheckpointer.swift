import Foundation
import GRDB
import Synchronization

/// Copies committed pages from the write-ahead log into the database file on its own
/// connection and thread.
///
/// Left to itself, SQLite checkpoints inside the commit that pushes the log past its limit, so
/// every few change sets the single writer also copies megabytes and waits for the database
/// file's fsync. Here a passive checkpoint runs every `interval` beside the writer, on the other
/// core; the writer's own automatic checkpoint stays on, at a higher limit, as the bound should
/// this thread fall behind. A passive checkpoint never blocks the writer or readers.
///
/// Once a second, not more often: a page that several commits change in the meantime (a B-tree
/// leaf that every batch touches) is then copied into the database once, not once per commit.
/// At 100 ms, a city node wrote 4.3 KB per record it received; at 1 s, 3.9 KB
/// (`creditsync-bench e2e`, Benchmarks.md).
public final class WALCheckpointer: Sendable {
    private final class Flag: Sendable {
        let stopped = Mutex(false)
        /// Wakes the thread from its pause, and says when it has let its connection go.
        let wake = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
    }

    private let flag = Flag()

    /// Starts checkpointing the database at `path` (already in WAL mode).
    public init(path: String, interval: Duration = .seconds(1)) throws {
        var config = Configuration()
        config.busyMode = .timeout(1)
        config.label = "checkpointer"
        let queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        let flag = self.flag
        let pause = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        let wal = path + "-wal"
        let thread = Thread {
            var checkpointed: (size: Int64, modified: timespec)?
            while !flag.stopped.withLock({ $0 }) {
                // A log nobody wrote to since the last checkpoint has nothing to copy: an idle
                // store (a county node most of the day) costs a stat, not a checkpoint.
                var info = stat()
                let now = stat(wal, &info) == 0 ? (size: Int64(info.st_size), modified: info.st_mtim) : nil
                if now == nil || checkpointed == nil || now!.size != checkpointed!.size
                    || now!.modified.tv_sec != checkpointed!.modified.tv_sec || now!.modified.tv_nsec != checkpointed!.modified.tv_nsec {
                    try? queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
                    checkpointed = now
                }
                _ = flag.wake.wait(timeout: .now() + pause)
            }
            try? queue.close()
            flag.done.signal()
        }
        thread.name = "wal-checkpointer"
        thread.start()
    }

    /// Stops the thread and waits until its connection is closed: a store closed "now" has no
    /// connection left open behind it (a copy of its files is then the whole store).
    public func stop() {
        guard flag.stopped.withLock({ stopped in defer { stopped = true }; return !stopped }) else { return }
        flag.wake.signal()
        flag.done.wait()
    }

    deinit {
        flag.stopped.withLock { $0 = true }
        flag.wake.signal()
    }
}
