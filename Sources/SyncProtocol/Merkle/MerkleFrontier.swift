/// The compact frontier of a Merkle tree: the roots of its perfect subtrees, largest (leftmost)
/// first, one per set bit of the size.
///
/// It is all the hub needs to keep of each node's log to check that a change set's tree heads
/// are right: append the new leaves and compare roots (`Protocol/sync.md` §8).
public struct MerkleFrontier: Sendable, Equatable {
    public private(set) var size: UInt64
    /// Perfect-subtree roots, largest first.
    public private(set) var hashes: [Hash32]

    /// An empty tree.
    public init() {
        size = 0
        hashes = []
    }

    /// A frontier as stored; `nil` unless `hashes` has one entry per set bit of `size`.
    public init?(size: UInt64, hashes: [Hash32]) {
        guard size.nonzeroBitCount == hashes.count else { return nil }
        self.size = size
        self.hashes = hashes
    }

    /// Appends one leaf hash, merging equal-sized subtrees from the right.
    public mutating func append(leafHash: Hash32) {
        append(leafHash: leafHash) { _, _, _ in }
    }

    /// Appends one leaf hash and reports every perfect subtree it completes, as
    /// `(level, index, hash)` in the sense of ``MerkleProofs``: the leaf itself at level 0, then
    /// one per merge. A keeper of these can later build any proof over the tree.
    public mutating func append<E: Error>(leafHash: Hash32, completed: (Int, UInt64, Hash32) throws(E) -> Void) throws(E) {
        let index = size
        try completed(0, index, leafHash)
        var carry = leafHash
        var n = size
        var level = 0
        while n & 1 == 1 {
            carry = MerkleHash.node(hashes.removeLast(), carry)
            n >>= 1
            level += 1
            try completed(level, index >> UInt64(level), carry)
        }
        hashes.append(carry)
        size += 1
    }

    /// The tree's root, MTH over all leaves.
    public var root: Hash32 {
        guard var acc = hashes.last else { return MerkleHash.empty }
        for h in hashes.dropLast().reversed() { acc = MerkleHash.node(h, acc) }
        return acc
    }

    public var head: TreeHead { TreeHead(size: size, root: root) }

    /// Serialized as `uvarint size ‖ hashes`, for storage.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: 10 + 32 * hashes.count)
        w.uvarint(size)
        for h in hashes { w.hash(h) }
        return w.bytes
    }

    /// Parses ``encoded``.
    public init(encoded: [UInt8]) throws(WireError) {
        var r = ByteReader(encoded)
        let size = try r.integer("frontier.size")
        var hashes: [Hash32] = []
        for _ in 0..<size.nonzeroBitCount { hashes.append(try r.hash("frontier.hash")) }
        try r.finish()
        self.size = size
        self.hashes = hashes
    }
}
