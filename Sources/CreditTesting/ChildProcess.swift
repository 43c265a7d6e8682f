public import Foundation

/// A program a test runs to its end (`creditsync`, `openssl`, `promtool`, a browser), waited for
/// on a thread of its own.
///
/// Why not simply `waitUntilExit()` in the test: Swift's cooperative thread pool has one thread
/// per core, two on the machines CI runs on, and every test of the process runs on it. A test
/// that blocks one of them for the length of a child process takes it from all the others; two
/// such tests at once stall the whole suite. In-process servers stop answering then, so a browser
/// waiting on one of them may never get its page, and tests that have nothing to do with processes
/// wait for as long. Here the blocking reads and the wait happen on a dedicated thread, and the
/// test's task is suspended. (A raw socket's blocking read is the same case: `onOwnThread`.)
public enum ChildProcess {
    /// What a run printed and how it ended.
    public struct Output: Sendable {
        public var status: Int32
        /// Standard output as the program wrote it (`iconv`'s is not UTF-8).
        public var output: Data
        public var stderr: String
        /// Standard output read as UTF-8.
        public var stdout: String { String(decoding: output, as: UTF8.self) }
    }

    /// Runs `executable` with `arguments` to its end, with `input` on its standard input (then
    /// closed), `environment` added to this process's, in `directory` when given.
    ///
    /// Standard output and error are read at the same time, so a program that fills one pipe
    /// while the other is being read cannot deadlock. `input` is written whole before either is
    /// read: keep it small (what the tests pass is a few kilobytes at most).
    public static func run(_ executable: URL, _ arguments: [String], input: Data? = nil, environment: [String: String] = [:],
                           directory: URL? = nil) async throws -> Output {
        try await onOwnThread {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            if let directory { process.currentDirectoryURL = directory }
            let out = Pipe(), err = Pipe(), inPipe = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = inPipe
            try process.run()
            let stderr = Drain(err.fileHandleForReading)
            if let input { inPipe.fileHandleForWriting.write(input) }
            try inPipe.fileHandleForWriting.close()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Output(status: process.terminationStatus, output: stdout, stderr: String(decoding: stderr.wait(), as: UTF8.self))
        }
    }

    /// Runs blocking `work` on a new thread and suspends the caller until it is done.
    public static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// A pipe read to its end on a thread of its own.
    private final class Drain: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var data = Data()

        init(_ handle: FileHandle) {
            Thread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }.start()
        }

        func wait() -> Data {
            done.wait()
            return data
        }
    }
}
