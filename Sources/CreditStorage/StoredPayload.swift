public import Foundation
import CZstd
import Synchronization

/// A record's or an encoded change's bytes as a store keeps them: compressed with Zstandard
/// against a fixed dictionary, and checksummed.
///
/// A record is a few hundred bytes of JSON, and it is most of what a store holds per record.
/// Alone, so short a text hardly compresses (686 bytes of the benchmark's records became 505
/// with zstd, 467 with deflate); what shrinks it is a dictionary of what every record of an item
/// repeats — its keys, its enumerations — which the catalog gives. With dictionary 1 the same
/// records become about 370 bytes, for about 5 µs of CPU to compress and 1.5 µs to read back
/// (deflate took 19 µs per record, for less).
///
/// Format: one byte naming the dictionary (1), then one zstd frame that carries its content size
/// and its checksum (XXH64, 4 bytes). Without the checksum most damage inside a frame still
/// decodes, to other bytes of the same length: a flipped bit would have been pushed, signed, as
/// the change. A dictionary never changes once a store may hold what it compressed; a new one
/// gets a new byte, and every store can still read what any earlier build wrote.
public enum StoredPayload {
    /// The format byte of a frame compressed with ``dictionary1``.
    static let formatDictionary1: UInt8 = 1
    /// zstd's fast mode: most of the dictionary's gain at a third of level 1's cost.
    static let level: Int32 = -1
    /// More than any change can hold.
    static let maxSize: UInt64 = 1 << 20

    /// `bytes` compressed, as a store keeps them.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { compress(raw: $0) } }

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
                // The context holds the dictionary and the checksum flag (``Codec``).
                let written = ZSTD_compress2(context, out.baseAddress! + 1, capacity - 1, input.baseAddress, input.count)
                // Compressing into a buffer of the bound cannot fail but for memory.
                precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
                count = 1 + written
            }
        }
    }

    static func decompress(raw input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let codec = Codec.shared
        guard let format = input.first, format == formatDictionary1 else { throw StoredPayloadError.unknownFormat(input.first) }
        let frame = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        // Below zstd's ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR, and below what any
        // change can hold (its record at most 256 KiB): a damaged size allocates nothing large.
        let size = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        guard size < UInt64.max - 1, size <= maxSize else { throw StoredPayloadError.damaged("no frame with a plausible content size") }
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
            let context = compressors.withLock { $0.popLast() } ?? newCompressor()
            defer { compressors.withLock { $0.append(context) } }
            return body(context.pointer)
        }

        /// A compression context set up once for every frame it makes: dictionary 1 (whose level it
        /// carries) and a checksum. ``ZSTD_compress2`` keeps both from one frame to the next.
        private func newCompressor() -> ContextBox {
            let context = ZSTD_createCCtx()!
            precondition(ZSTD_isError(ZSTD_CCtx_refCDict(context, compressionDictionary)) == 0, "zstd: the dictionary is refused")
            precondition(ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)) == 0, "zstd: no checksum")
            return ContextBox(pointer: context)
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
