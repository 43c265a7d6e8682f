public import Foundation
import Crypto

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

    /// SHA-256(0x00 ‖ bytes), hashing the array's storage directly: every change is hashed as
    /// a leaf once per log it enters, and the generic `DataProtocol` path costs more than the hash.
    public static func leaf(_ bytes: [UInt8]) -> Hash32 {
        var h = SHA256()
        withUnsafeBytes(of: UInt8(0)) { h.update(bufferPointer: $0) }
        bytes.withUnsafeBytes { h.update(bufferPointer: $0) }
        return Hash32(h.finalize())
    }

    static let leafPrefix: [UInt8] = [0]

    /// SHA-256(0x01 ‖ left ‖ right), over one 65-byte buffer on the stack.
    public static func node(_ left: Hash32, _ right: Hash32) -> Hash32 {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buffer in
            buffer[0] = 1
            left.withBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[1..<33]).copyMemory(from: $0) }
            right.withBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[33..<65]).copyMemory(from: $0) }
            var h = SHA256()
            h.update(bufferPointer: UnsafeRawBufferPointer(buffer))
            return Hash32(h.finalize())
        }
    }
}
