public import Foundation
/// An append-only Merkle tree (RFC 9162 §2.1) that keeps every complete aligned subtree's hash,
/// level by level, so that appending is amortized O(1) and any root, inclusion proof or
/// consistency proof is O(log n) hashes.
///
/// Level 0 holds the leaf hashes; level k holds the hash of each complete, aligned block of 2ᵏ
/// leaves. In RFC 9162's recursion every left subtree is such a block, so each MTH needs at most
/// one fresh hash per level.
public struct MerkleTree: Sendable {
    private var levels: [[Hash32]] = [[]]

    public init() {}

    /// Builds a tree over existing leaf hashes.
    public init(leafHashes: some Sequence<Hash32>) {
        for h in leafHashes { append(leafHash: h) }
    }

    /// The number of leaves.
    public var size: UInt64 { UInt64(levels[0].count) }

    /// Appends a leaf given its data.
    public mutating func append(leafData: some DataProtocol) { append(leafHash: MerkleHash.leaf(leafData)) }

    /// Appends a leaf given its hash.
    public mutating func append(leafHash: Hash32) {
        levels[0].append(leafHash)
        var level = 0
        while levels[level].count % 2 == 0 {
            let n = levels[level].count
            let parent = MerkleHash.node(levels[level][n - 2], levels[level][n - 1])
            if levels.count == level + 1 { levels.append([]) }
            levels[level + 1].append(parent)
            level += 1
        }
    }

    /// The hash of leaf `index`.
    public func leafHash(at index: UInt64) -> Hash32 { levels[0][Int(index)] }

    /// The root of the first `size` leaves, MTH(D[0:size]).
    public func root(size: UInt64? = nil) -> Hash32 {
        let n = size ?? self.size
        precondition(n <= self.size, "tree has \(self.size) leaves, asked for \(n)")
        return n == 0 ? MerkleHash.empty : subtree(0, n)
    }

    /// The current tree head.
    public var head: TreeHead { TreeHead(size: size, root: root()) }

    /// MTH(D[lo:hi]).
    func subtree(_ lo: UInt64, _ hi: UInt64) -> Hash32 {
        MerkleProofs.subtree(lo, hi, perfect: perfect)
    }

    /// The hash of the perfect subtree at `level` with index `index` (leaves 2ᵏ·index …).
    private func perfect(_ level: Int, _ index: UInt64) -> Hash32 { levels[level][Int(index)] }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves: PATH(m, D[n]) of
    /// RFC 9162 §2.1.3.1.
    public func inclusionProof(index: UInt64, size: UInt64) -> [Hash32] {
        precondition(index < size && size <= self.size)
        return MerkleProofs.inclusion(index: index, size: size, perfect: perfect)
    }

    /// The consistency proof between the trees of `oldSize` and `newSize` leaves:
    /// PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (empty when the sizes are equal or `oldSize` is 0).
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) -> [Hash32] {
        precondition(oldSize <= newSize && newSize <= size)
        return MerkleProofs.consistency(oldSize: oldSize, newSize: newSize, perfect: perfect)
    }

    /// The compact frontier of the first `size` leaves (see ``MerkleFrontier``).
    public func frontier(size: UInt64? = nil) -> MerkleFrontier {
        let n = size ?? self.size
        var hashes: [Hash32] = []
        var lo: UInt64 = 0
        for bit in (0..<64).reversed() where n & (1 << UInt64(bit)) != 0 {
            let width: UInt64 = 1 << UInt64(bit)
            hashes.append(subtree(lo, lo + width))
            lo += width
        }
        return MerkleFrontier(size: n, hashes: hashes)!
    }
}

