public import Foundation
public import Crypto

/// A SHA-256 digest held inline (no heap allocation), so that Merkle trees of millions of
/// leaves stay cheap to build and compare.
public struct Hash32: Hashable, Sendable, CustomStringConvertible {
    private var a: UInt64, b: UInt64, c: UInt64, d: UInt64

    /// Reads 32 bytes.
    public init(_ raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 32, "a hash is 32 bytes")
        a = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        b = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        c = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        d = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    public init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { Hash32($0) }
    }

    /// Parses 64 hex characters.
    public init?(hex: String) {
        guard let bytes = [UInt8](hex: hex), bytes.count == 32 else { return nil }
        self = bytes.withUnsafeBytes { Hash32($0) }
    }

    /// Calls `body` with the 32 bytes.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: (a, b, c, d)) { try body($0) }
    }

    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// From a stored 32-byte BLOB.
    public static func from(_ data: Data) -> Hash32 { data.withUnsafeBytes { Hash32($0) } }

    /// As a BLOB to store.
    public var data: Data { withBytes { Data($0) } }

    /// Lowercase hex.
    public var hex: String { bytes.hex }

    public var description: String { hex }

    /// SHA-256 of `data`.
    public static func sha256(_ data: some DataProtocol) -> Hash32 { Hash32(SHA256.hash(data: data)) }

    /// SHA-256 of `bytes`, hashing the array's storage directly (no `DataProtocol` regions).
    public static func sha256(_ bytes: [UInt8]) -> Hash32 {
        var h = SHA256()
        bytes.withUnsafeBytes { h.update(bufferPointer: $0) }
        return Hash32(h.finalize())
    }
}

extension [UInt8] {
    /// Parses lowercase or uppercase hex; `nil` on odd length or a non-hex character.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        self = out
    }

    /// Lowercase hex.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
