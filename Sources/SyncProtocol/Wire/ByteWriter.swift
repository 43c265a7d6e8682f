/// Appends the primitive encodings of `Protocol/sync.md` §1 to a byte buffer.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func u8(_ value: UInt8) { bytes.append(value) }

    /// Unsigned LEB128, minimal.
    public mutating func uvarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Length-prefixed bytes.
    public mutating func lengthPrefixed(_ data: some Collection<UInt8>) {
        uvarint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    /// Length-prefixed UTF-8.
    public mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { lengthPrefixed($0) }
    }

    /// Raw bytes with no prefix (hashes, magic).
    public mutating func raw(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    public mutating func hash(_ digest: Hash32) { digest.withBytes { bytes.append(contentsOf: $0) } }
}
