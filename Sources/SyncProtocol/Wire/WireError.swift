/// Why bytes were refused. Every decoder and verifier in this module throws only this type, so a
/// caller (the hub's ingest, a node's receiver) can map each case to the status the protocol names.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside `field`.
    case truncated(field: String)
    /// `field` declares a length over its bound.
    case oversized(field: String, limit: Int)
    /// A varint is not minimal or overflows 64 bits.
    case varint(field: String)
    /// `field` is not valid UTF-8.
    case utf8(field: String)
    /// An unknown format version.
    case version(field: String, found: Int)
    /// An unknown change operation.
    case operation(Int)
    /// Bytes left after the outermost value.
    case trailingBytes(count: Int)
    /// The envelope does not start with `CSE1`.
    case magic
    /// The signature list is malformed (count 0 or over 4, a signature not 64 bytes).
    case signature(String)
    /// The signature does not verify.
    case badSignature(keyId: String)
    /// No signature by a key trusted for the signer.
    case untrustedKey(keyId: String, signer: String)
    /// The envelope carries another payload type than expected.
    case payloadType(expected: String, found: String)
    /// A rule tying the message's fields together is broken.
    case inconsistent(String)
    /// A correction or revocation without its reason or decision document (Article 41).
    case missingReason(sequence: UInt64)

    /// The stable error code of `Protocol/sync.md` §1 and §3.
    public var code: String {
        switch self {
        case .truncated: "truncated"
        case .oversized: "oversized"
        case .varint: "varint"
        case .utf8: "utf8"
        case .version: "version"
        case .operation: "operation"
        case .trailingBytes: "trailing-bytes"
        case .magic: "magic"
        case .signature: "signature"
        case .badSignature: "bad-signature"
        case .untrustedKey: "untrusted-key"
        case .payloadType: "payload-type"
        case .inconsistent: "inconsistent"
        case .missingReason: "missing-reason"
        }
    }

    public var description: String {
        switch self {
        case let .truncated(field): "input ends inside \(field)"
        case let .oversized(field, limit) where limit == Int(Int64.max): "\(field) is larger than 2^63 - 1, the bound of every stored integer"
        case let .oversized(field, limit): "\(field) is longer than its limit of \(limit) bytes"
        case let .varint(field): "\(field) is not a minimal 64-bit varint"
        case let .utf8(field): "\(field) is not valid UTF-8"
        case let .version(field, found): "\(field) has unknown version \(found)"
        case let .operation(op): "unknown change operation \(op)"
        case let .trailingBytes(count): "\(count) unexpected bytes after the message"
        case .magic: "not a creditsync envelope (magic is not CSE1)"
        case let .signature(reason): "malformed signatures: \(reason)"
        case let .badSignature(keyId): "the signature by key \(keyId) does not verify"
        case let .untrustedKey(keyId, signer): "key \(keyId) is not an active key of \(signer)"
        case let .payloadType(expected, found): "expected payload type \(expected), got \(found)"
        case let .inconsistent(reason): "inconsistent message: \(reason)"
        case let .missingReason(sequence): "change \(sequence) corrects or revokes a record without a reason and decision document"
        }
    }
}
