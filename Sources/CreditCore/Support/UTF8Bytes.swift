import Foundation

/// Byte-level helpers for the loops every field of every record goes through. Walking a
/// `String.UTF8View` element by element goes through its index machinery for each byte; a
/// native string's bytes are contiguous, and a plain loop over them is several times faster.
extension String {
    /// Calls `body` with the string's UTF-8 bytes (in place for a native string, copied once
    /// otherwise).
    func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        return try Array(utf8).withUnsafeBufferPointer(body)
    }

    /// Whether `self` sorts before `other` by UTF-8 bytes: the order of canonical JSON's keys.
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        a.withUTF8Bytes { x in
            b.withUTF8Bytes { y in
                let shared = Swift.min(x.count, y.count)
                let order = shared == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, shared)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether the bytes (valid UTF-8) start with a White_Space scalar (see
    /// `Unicode.Scalar.isWhiteSpace`), decided on the bytes without decoding.
    var startsWithWhiteSpace: Bool {
        guard let b = first else { return false }
        switch b {
        case 0x09...0x0D, 0x20: return true
        case 0xC2: return count > 1 && (self[1] == 0x85 || self[1] == 0xA0)
        case 0xE1: return count > 2 && self[1] == 0x9A && self[2] == 0x80
        case 0xE2:
            guard count > 2 else { return false }
            return (self[1] == 0x80 && ((0x80...0x8A).contains(self[2]) || self[2] == 0xA8 || self[2] == 0xA9 || self[2] == 0xAF))
                || (self[1] == 0x81 && self[2] == 0x9F)
        case 0xE3: return count > 2 && self[1] == 0x80 && self[2] == 0x80
        default: return false
        }
    }

    /// Whether the bytes (valid UTF-8) end with a White_Space scalar. In valid UTF-8 a lead byte
    /// starts a scalar wherever it stands, so matching the last two or three bytes is exact.
    var endsWithWhiteSpace: Bool {
        guard let b = last else { return false }
        let n = count
        switch b {
        case 0x09...0x0D, 0x20: return true
        case 0x85, 0xA0: if n >= 2, self[n - 2] == 0xC2 { return true }
        default: break
        }
        guard n >= 3 else { return false }
        switch (self[n - 3], self[n - 2], b) {
        case (0xE1, 0x9A, 0x80), (0xE2, 0x80, 0x80...0x8A), (0xE2, 0x80, 0xA8), (0xE2, 0x80, 0xA9), (0xE2, 0x80, 0xAF),
             (0xE2, 0x81, 0x9F), (0xE3, 0x80, 0x80):
            return true
        default: return false
        }
    }
}
