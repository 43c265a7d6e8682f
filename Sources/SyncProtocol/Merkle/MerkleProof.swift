/// A tree head: a log's size and root.
public struct TreeHead: Sendable, Hashable, CustomStringConvertible {
    public var size: UInt64
    public var root: Hash32

    public init(size: UInt64, root: Hash32) {
        self.size = size
        self.root = root
    }

    /// The empty log.
    public static let empty = TreeHead(size: 0, root: MerkleHash.empty)

    public var description: String { "\(size):\(root.hex.prefix(16))…" }
}

/// Verification of RFC 9162 proofs, by the algorithms of §2.1.3.2 and §2.1.4.2, which check the
/// proof's length exactly: an extra, missing or reordered hash fails.
public enum MerkleProof {
    /// Whether `proof` shows that `leafHash` is leaf `index` of the tree with `root` and `size`.
    public static func verifyInclusion(leafHash: Hash32, index: UInt64, size: UInt64, proof: [Hash32], root: Hash32) -> Bool {
        guard index < size, proof.count <= 64 else { return false }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHash.node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleHash.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree `old` is a prefix of the tree `new`.
    public static func verifyConsistency(old: TreeHead, new: TreeHead, proof: [Hash32]) -> Bool {
        guard old.size <= new.size, proof.count <= 64 else { return false }
        if old.size == new.size { return proof.isEmpty && old.root == new.root }
        if old.size == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof[...]
        // When the old size is a power of two, its root is the first node of the path.
        if old.size & (old.size - 1) == 0 { path = ([old.root] + proof)[...] }
        guard var first = path.first else { return false }
        var fn = old.size - 1
        var sn = new.size - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first
        var sr = first
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHash.node(c, fr)
                sr = MerkleHash.node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleHash.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        first = fr
        return sn == 0 && first == old.root && sr == new.root
    }
}
