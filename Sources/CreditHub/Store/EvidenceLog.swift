import CreditStorage
import Dispatch
public import Foundation
import Synchronization
import SyncProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The change sets the hub accepted, exactly as received, appended to a file beside its
/// database (`<database>-evidence`).
///
/// Why a file and not a column: a set is about a megabyte, more than everything else its merge
/// writes together, and SQLite's write-ahead log writes every page twice (into the log, then
/// into the database at the checkpoint). Appended here, the bytes are written once, and the
/// fsync that makes them durable is shared by every set that arrived meanwhile and runs off the
/// database writer. The database row of each set (`changeset`) holds its offset, length and
/// SHA-256; every read checks the bytes against that digest.
///
/// The ordering that keeps this safe: a set is appended and synced before the transaction that
/// references it commits, and the receipt only leaves after that commit. A crash in between
/// leaves bytes no row references; at the end of the file they are cut off when the store next
/// opens, anywhere else they stay unreferenced. Nothing is ever rewritten in place.
public final class EvidenceLog: Sendable {
    /// Where one set's bytes are.
    public struct Location: Sendable, Equatable {
        public var offset: Int64
        public var length: Int64
        public var end: Int64 { offset + length }

        public init(offset: Int64, length: Int64) {
            self.offset = offset
            self.length = length
        }
    }

    /// Why the evidence could not be written or read.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// The bytes were read but are not the ones the store recorded.
        public var isDigestMismatch = false
    }

    /// The file begins with this line, so that an operator who opens it knows what it is.
    static let header = Array("creditsync change-set evidence v1\n".utf8)

    /// The evidence file of the database at `path`.
    public static func path(besideDatabase path: String) -> String { path + "-evidence" }

    private struct Waiting {
        let bytes: [UInt8]
        let continuation: CheckedContinuation<Location, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var draining = false
        /// Where the next set goes: the end of everything written and synced.
        var end: Int64
        /// The whole log, when there is no file (an in-memory store, for tests).
        var memory: [UInt8]
    }

    private let descriptor: Int32
    private let path: String?
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "creditsync.evidence")

    /// Opens (creating if needed) the log at `path`, keeping its first `referencedEnd` bytes —
    /// all the database references — and cutting off anything after them; `nil` keeps it in memory.
    /// - Throws: ``Failure`` when the file is shorter than what the database references (it was
    ///   lost or replaced: restore the store and this file from the same backup) or is not an
    ///   evidence file.
    ///
    /// `cutUnreferenced`: cut the bytes past `referencedEnd` off (the owning daemon, on opening);
    /// anyone else leaves them, since a running daemon may be about to commit them.
    public init(path: String?, referencedEnd: Int64?, cutUnreferenced: Bool = true) throws {
        self.path = path
        let headerEnd = Int64(Self.header.count)
        guard let path else {
            descriptor = -1
            state = Mutex(State(end: headerEnd, memory: Self.header))
            return
        }
        let created = !FileManager.default.fileExists(atPath: path)
        if created { try PrivateFile.create(path) }
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open the evidence file \(path): \(String(cString: strerror(errno)))") }
        descriptor = fd
        var size = Int64(lseek(fd, 0, SEEK_END))
        if size == 0 {
            do {
                try DurableFile.write(fd, Self.header, at: 0, path: path)
                try DurableFile.sync(fd, path: path)
            } catch {
                close(fd)
                throw Failure(description: error.description)
            }
            size = headerEnd
            if created { Self.syncDirectory(of: path) }
        }
        var first = [UInt8](repeating: 0, count: Self.header.count)
        guard pread(fd, &first, first.count, 0) == first.count, first == Self.header else {
            close(fd)
            throw Failure(description: "\(path) is not a creditsync evidence file")
        }
        let keep = max(referencedEnd ?? headerEnd, headerEnd)
        guard size >= keep else {
            close(fd)
            throw Failure(description: "the evidence file \(path) holds \(size) bytes but the store references \(keep): "
                                     + "it was truncated or replaced; restore the store and its evidence file from the same backup")
        }
        if size > keep, cutUnreferenced {
            // Sets written before a crash that no committed transaction references.
            do {
                try DurableFile.truncate(fd, to: keep, path: path)
                try DurableFile.sync(fd, path: path)
            } catch {
                close(fd)
                throw Failure(description: "cannot cut unreferenced bytes off \(path): \(error)")
            }
        }
        state = Mutex(State(end: cutUnreferenced ? keep : size, memory: []))
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Where the next set will go: the header's end while nothing was appended.
    public var end: Int64 { state.withLock { $0.end } }

    /// Appends `bytes` and returns once they are on disk. Sets that arrive while a sync is
    /// running are written together and share the next one.
    public func append(_ bytes: [UInt8]) async throws -> Location {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.waiting.append(Waiting(bytes: bytes, continuation: continuation))
                defer { state.draining = true }
                return !state.draining
            }
            if start { queue.async { self.drain() } }
        }
    }

    /// The bytes at `location`.
    public func read(_ location: Location) throws -> [UInt8] {
        guard location.offset >= Int64(Self.header.count), location.length >= 0 else {
            throw Failure(description: "no evidence at \(location.offset)+\(location.length)")
        }
        guard descriptor >= 0 else {
            return try state.withLock { state in
                guard location.end <= Int64(state.memory.count) else { throw Failure(description: "no evidence at \(location.offset)") }
                return Array(state.memory[Int(location.offset)..<Int(location.end)])
            }
        }
        var bytes = [UInt8](repeating: 0, count: Int(location.length))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(location.offset) + off_t(done)) }
            guard n > 0 else {
                throw Failure(description: "cannot read the evidence at \(location.offset) in \(path ?? "memory"): "
                                         + (n == 0 ? "the file ends first" : String(cString: strerror(errno))))
            }
            done += n
        }
        return bytes
    }

    /// The bytes at `location`, checked against `digest`, the SHA-256 the store recorded for
    /// them; `what` names them in the error.
    public func read(_ location: Location, digest: Data, of what: @autoclosure () -> String) throws -> [UInt8] {
        let bytes = try read(location)
        guard Hash32.sha256(bytes).data == digest else {
            throw Failure(description: "the evidence of \(what()) does not match its digest", isDigestMismatch: true)
        }
        return bytes
    }

    /// Writes every waiting set, syncs once, and answers them; repeats while more arrive.
    private func drain() {
        while true {
            let (batch, start) = state.withLock { state -> ([Waiting], Int64) in
                let batch = state.waiting
                state.waiting = []
                if batch.isEmpty { state.draining = false }
                return (batch, state.end)
            }
            if batch.isEmpty { return }
            var locations: [Location] = []
            var offset = start
            do {
                for waiting in batch {
                    let location = Location(offset: offset, length: Int64(waiting.bytes.count))
                    if descriptor >= 0 {
                        try DurableFile.write(descriptor, waiting.bytes, at: offset, path: path ?? "")
                    } else {
                        state.withLock { $0.memory.append(contentsOf: waiting.bytes) }
                    }
                    locations.append(location)
                    offset = location.end
                }
                if descriptor >= 0 { try DurableFile.sync(descriptor, path: path ?? "") }
                // Only synced bytes move the end; after a failure the next sets overwrite these.
                state.withLock { $0.end = offset }
                for (waiting, location) in zip(batch, locations) { waiting.continuation.resume(returning: location) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }

    /// Makes a new file's name durable, as well as its contents.
    private static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
