public import Foundation
import CZstd
import Synchronization

/// A record's bytes as a store keeps them: compressed with Zstandard against a fixed dictionary.
///
/// A record is a few hundred bytes of JSON, and it is most of what a store holds per record.
/// Alone, so short a text hardly compresses (686 bytes of the benchmark's records became 505
/// with zstd, 467 with deflate); what shrinks it is a dictionary of what every record of an item
/// repeats — its keys, its enumerations — which the catalog gives. With dictionary 1 the same
/// records become about 370 bytes, for about 5 µs of CPU to compress and 1.5 µs to read back
/// (deflate took 19 µs per record, for less).
///
/// Format: one byte naming the dictionary (1), then one zstd frame that carries its content size.
/// A dictionary never changes once a store may hold what it compressed; a new one gets a new
/// byte, and every store can still read what any earlier build wrote.
public enum StoredPayload {
    /// The format byte of a frame compressed with ``dictionary1``.
    static let formatDictionary1: UInt8 = 1
    /// zstd's fast mode: most of the dictionary's gain at a third of level 1's cost.
    static let level: Int32 = -1

    /// `bytes` compressed, as a store keeps them.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { compress(raw: $0) } }

    /// ``compress(_:)-([UInt8])`` for a store column.
    public static func compress(_ data: Data) -> Data { Data(data.withUnsafeBytes { compress(raw: $0) }) }

    /// The bytes `stored` was made from.
    /// - Throws: ``StoredPayloadError`` for bytes no build of creditsync wrote (a damaged store).
    public static func decompress(_ stored: [UInt8]) throws -> [UInt8] {
        try stored.withUnsafeBytes { (raw) in try decompress(raw: raw) }
    }

    /// ``decompress(_:)-([UInt8])`` of a store column.
    public static func decompress(_ stored: Data) throws -> [UInt8] {
        try stored.withUnsafeBytes { (raw) in try decompress(raw: raw) }
    }

    static func compress(raw input: UnsafeRawBufferPointer) -> [UInt8] {
        let codec = Codec.shared
        let capacity = 1 + ZSTD_compressBound(input.count)
        return codec.withCompressor { context in
            [UInt8](unsafeUninitializedCapacity: capacity) { out, count in
                out[0] = formatDictionary1
                let written = ZSTD_compress_usingCDict(context, out.baseAddress! + 1, capacity - 1, input.baseAddress, input.count,
                                                       codec.compressionDictionary)
                // Compressing into a buffer of the bound cannot fail but for memory.
                precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
                count = 1 + written
            }
        }
    }

    static func decompress(raw input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let codec = Codec.shared
        guard input.count > 1, input[0] == formatDictionary1 else { throw StoredPayloadError.unknownFormat(input.first) }
        let frame = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        // zstd's ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR.
        let size = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        guard size < UInt64.max - 1, size <= 1 << 30 else { throw StoredPayloadError.damaged("no content size") }
        var failure: String?
        let bytes = codec.withDecompressor { context in
            [UInt8](unsafeUninitializedCapacity: Int(size)) { out, count in
                let read = ZSTD_decompress_usingDDict(context, out.baseAddress, Int(size), frame.baseAddress, frame.count,
                                                      codec.decompressionDictionary)
                if ZSTD_isError(read) != 0 || read != Int(size) {
                    failure = ZSTD_isError(read) != 0 ? String(cString: ZSTD_getErrorName(read)) : "\(read) of \(size) bytes"
                    count = 0
                } else {
                    count = read
                }
            }
        }
        if let failure { throw StoredPayloadError.damaged(failure) }
        return bytes
    }

    /// The dictionaries, parsed once, and zstd contexts reused from call to call: creating a
    /// context allocates its tables, which costs more than compressing a record.
    final class Codec: Sendable {
        static let shared = Codec()

        nonisolated(unsafe) let compressionDictionary: OpaquePointer
        nonisolated(unsafe) let decompressionDictionary: OpaquePointer
        private let compressors = Mutex<[ContextBox]>([])
        private let decompressors = Mutex<[ContextBox]>([])

        /// A context held by the pool; only one caller uses it at a time.
        struct ContextBox: @unchecked Sendable { let pointer: OpaquePointer }

        private init() {
            let dictionary = Array(StoredPayload.dictionary1.utf8)
            compressionDictionary = dictionary.withUnsafeBytes { ZSTD_createCDict($0.baseAddress, $0.count, StoredPayload.level)! }
            decompressionDictionary = dictionary.withUnsafeBytes { ZSTD_createDDict($0.baseAddress, $0.count)! }
        }

        func withCompressor<T>(_ body: (OpaquePointer) -> T) -> T {
            let context = compressors.withLock { $0.popLast() } ?? ContextBox(pointer: ZSTD_createCCtx()!)
            defer { compressors.withLock { $0.append(context) } }
            return body(context.pointer)
        }

        func withDecompressor<T>(_ body: (OpaquePointer) -> T) -> T {
            let context = decompressors.withLock { $0.popLast() } ?? ContextBox(pointer: ZSTD_createDCtx()!)
            defer { decompressors.withLock { $0.append(context) } }
            return body(context.pointer)
        }
    }
}

/// Stored bytes that do not read back: the store was damaged, or written by no build of creditsync.
public enum StoredPayloadError: Error, CustomStringConvertible, Equatable {
    /// The first byte names no dictionary this build knows.
    case unknownFormat(UInt8?)
    /// The frame does not decompress.
    case damaged(String)

    public var description: String {
        switch self {
        case .unknownFormat(let byte): "stored payload has unknown format \(byte.map { String($0) } ?? "(empty)")"
        case .damaged(let reason): "stored payload is damaged: \(reason)"
        }
    }
}
