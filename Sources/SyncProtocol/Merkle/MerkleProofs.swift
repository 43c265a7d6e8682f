/// RFC 9162 proof construction over any keeper of a tree's perfect subtrees: the in-memory
/// ``MerkleTree`` and the hub's stored log tree use the same algorithms.
///
/// A perfect subtree is a complete, aligned block of 2ᵏ leaves; `perfect(k, i)` is the hash of
/// the block of leaves 2ᵏ·i … 2ᵏ·(i + 1) − 1. In RFC 9162's recursion every left subtree is such
/// a block, so any MTH needs at most one perfect subtree per level, and a proof O(log² n) reads.
public enum MerkleProofs {
    /// MTH(D[lo:hi]).
    public static func subtree<E: Error>(_ lo: UInt64, _ hi: UInt64, perfect: (Int, UInt64) throws(E) -> Hash32) throws(E) -> Hash32 {
        let n = hi - lo
        if n == 0 { return MerkleHash.empty }
        if n & (n - 1) == 0 {
            let level = n.trailingZeroBitCount
            return try perfect(level, lo >> UInt64(level))
        }
        let k = largestPowerOfTwo(below: n)
        return MerkleHash.node(try subtree(lo, lo + k, perfect: perfect), try subtree(lo + k, hi, perfect: perfect))
    }

    /// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1; `index < size`.
    public static func inclusion<E: Error>(index: UInt64, size: UInt64, perfect: (Int, UInt64) throws(E) -> Hash32) throws(E) -> [Hash32] {
        var m = index, lo: UInt64 = 0, hi = size
        // Iterative form of the recursion: the hashes are collected leaf-side first.
        var siblings: [Hash32] = []
        while hi - lo > 1 {
            let k = largestPowerOfTwo(below: hi - lo)
            if m < k {
                siblings.append(try subtree(lo + k, hi, perfect: perfect))
                hi = lo + k
            } else {
                siblings.append(try subtree(lo, lo + k, perfect: perfect))
                lo += k
                m -= k
            }
        }
        return siblings.reversed()
    }

    /// PROOF(oldSize, D[0:newSize]) of RFC 9162 §2.1.4.1; empty when the sizes are equal or
    /// `oldSize` is 0. `oldSize ≤ newSize`.
    public static func consistency<E: Error>(oldSize: UInt64, newSize: UInt64,
                                             perfect: (Int, UInt64) throws(E) -> Hash32) throws(E) -> [Hash32] {
        guard oldSize > 0, oldSize < newSize else { return [] }
        var siblings: [Hash32] = []
        var m = oldSize, lo: UInt64 = 0, hi = newSize, complete = true
        while true {
            let n = hi - lo
            if m == n {
                if !complete { siblings.append(try subtree(lo, hi, perfect: perfect)) }
                break
            }
            let k = largestPowerOfTwo(below: n)
            if m <= k {
                siblings.append(try subtree(lo + k, hi, perfect: perfect))
                hi = lo + k
            } else {
                siblings.append(try subtree(lo, lo + k, perfect: perfect))
                lo += k
                m -= k
                complete = false
            }
        }
        // SUBPROOF appends on the way back up: the innermost hash comes first.
        return siblings.reversed()
    }
}

/// The largest power of two strictly less than `n` (n ≥ 2).
func largestPowerOfTwo(below n: UInt64) -> UInt64 {
    UInt64(1) << UInt64(63 - (n - 1).leadingZeroBitCount)
}
