public import Foundation
public import Crypto

/// The hashing of RFC 9162 §2.1 with SHA-256: domain-separated leaves and interior nodes, so
/// that a leaf can never be passed off as a node (second-preimage resistance).
public enum MerkleHash {
    /// MTH({}) = SHA-256 of the empty string.
    public static let empty = Hash32.sha256([UInt8]())

    /// SHA-256(0x00 ‖ data).
    public static func leaf(_ data: some DataProtocol) -> Hash32 {
        var h = SHA256()
        h.update(data: leafPrefix)
        h.update(data: data)
        return Hash32(h.finalize())
    }

    static let leafPrefix: [UInt8] = [0]
    static let nodePrefix: [UInt8] = [1]

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func node(_ left: Hash32, _ right: Hash32) -> Hash32 {
        var h = SHA256()
        h.update(data: nodePrefix)
        left.withBytes { h.update(bufferPointer: $0) }
        right.withBytes { h.update(bufferPointer: $0) }
        return Hash32(h.finalize())
    }
}
