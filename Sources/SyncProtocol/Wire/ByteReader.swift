/// Reads the primitive encodings of `Protocol/sync.md` §1, refusing anything malformed with a
/// typed error. It never reads past its input and never allocates more than a value's checked
/// length, so hostile input cannot make it crash or balloon.
public struct ByteReader: ~Copyable {
    private let bytes: [UInt8]
    public private(set) var offset: Int
    private let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    /// Bytes not yet read.
    public var remaining: Int { end - offset }

    public mutating func u8(_ field: String) throws(WireError) -> UInt8 {
        guard offset < end else { throw .truncated(field: field) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Unsigned LEB128; must be minimal and fit in 64 bits.
    public mutating func uvarint(_ field: String) throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for i in 0..<10 {
            guard offset < end else { throw .truncated(field: field) }
            let byte = bytes[offset]
            offset += 1
            if i == 9, byte > 1 { throw .varint(field: field) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if i > 0, byte == 0 { throw .varint(field: field) }
                return result
            }
            shift += 7
        }
        throw .varint(field: field)
    }

    /// An integer the protocol stores (a sequence number, position, size or time): a
    /// ``uvarint(_:)`` of at most 2⁶³ − 1, so that every store can hold it in a signed 64-bit
    /// column (`Protocol/sync.md` §1); a larger one is `oversized`.
    public mutating func integer(_ field: String) throws(WireError) -> UInt64 {
        let value = try uvarint(field)
        guard value <= UInt64(Int64.max) else { throw .oversized(field: field, limit: Int(Int64.max)) }
        return value
    }

    /// A length, checked against `limit` and against the bytes actually present before anything
    /// is allocated.
    mutating func length(_ field: String, limit: Int) throws(WireError) -> Int {
        let n = try uvarint(field)
        guard n <= UInt64(limit) else { throw .oversized(field: field, limit: limit) }
        guard n <= UInt64(remaining) else { throw .truncated(field: field) }
        return Int(n)
    }

    /// Length-prefixed bytes of at most `limit`.
    public mutating func lengthPrefixed(_ field: String, limit: Int) throws(WireError) -> [UInt8] {
        let n = try length(field, limit: limit)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    /// Length-prefixed UTF-8 of at most `limit` bytes.
    public mutating func string(_ field: String, limit: Int) throws(WireError) -> String {
        let n = try length(field, limit: limit)
        defer { offset += n }
        guard let s = String(validating: bytes[offset..<offset + n], as: UTF8.self) else { throw .utf8(field: field) }
        return s
    }

    /// Exactly `count` raw bytes.
    public mutating func raw(_ field: String, count: Int) throws(WireError) -> [UInt8] {
        guard count <= remaining else { throw .truncated(field: field) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func hash(_ field: String) throws(WireError) -> Hash32 {
        guard remaining >= 32 else { throw .truncated(field: field) }
        defer { offset += 32 }
        return bytes.withUnsafeBytes { Hash32(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + 32])) }
    }

    /// Throws unless every byte was consumed.
    public func finish() throws(WireError) {
        if remaining > 0 { throw .trailingBytes(count: remaining) }
    }
}
