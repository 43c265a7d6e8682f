import CreditTesting
import SyncProtocol
import Testing

/// A direct transcription of RFC 9162's recursive MTH, to check the level-indexed tree against.
func naiveRoot(_ leaves: ArraySlice<Hash32>) -> Hash32 {
    if leaves.isEmpty { return MerkleHash.empty }
    if leaves.count == 1 { return leaves.first! }
    var k = 1
    while k * 2 < leaves.count { k *= 2 }
    return MerkleHash.node(naiveRoot(leaves.prefix(k)), naiveRoot(leaves.dropFirst(k)))
}

func leaves(_ n: Int) -> [Hash32] { (0..<n).map { MerkleHash.leaf(Array("leaf \($0)".utf8)) } }

@Suite struct MerkleTreeTests {
    @Test func emptyTreeAndEmptyLeafMatchRFC() {
        #expect(MerkleHash.empty.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(MerkleHash.leaf([UInt8]()).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        #expect(MerkleTree().root() == MerkleHash.empty)
    }

    @Test func rootsMatchTheRecursiveDefinition() {
        let all = leaves(130)
        let tree = MerkleTree(leafHashes: all)
        for n in 0...130 {
            #expect(tree.root(size: UInt64(n)) == naiveRoot(all[0..<n]), "size \(n)")
        }
    }

    @Test func frontierFollowsTheTree() throws {
        var frontier = MerkleFrontier()
        var tree = MerkleTree()
        for h in leaves(100) {
            frontier.append(leafHash: h)
            tree.append(leafHash: h)
            #expect(frontier.root == tree.root())
            #expect(frontier == tree.frontier())
            #expect(try MerkleFrontier(encoded: frontier.encoded) == frontier)
        }
        #expect(MerkleFrontier(size: 3, hashes: []) == nil)
    }

    @Test func everyInclusionProofVerifies() {
        let tree = MerkleTree(leafHashes: leaves(40))
        for n in UInt64(1)...40 {
            let root = tree.root(size: n)
            for i in 0..<n {
                let proof = tree.inclusionProof(index: i, size: n)
                #expect(MerkleProof.verifyInclusion(leafHash: tree.leafHash(at: i), index: i, size: n, proof: proof, root: root))
            }
        }
    }

    @Test func everyConsistencyProofVerifies() {
        let tree = MerkleTree(leafHashes: leaves(40))
        for n in UInt64(0)...40 {
            for m in 0...n {
                let proof = tree.consistencyProof(oldSize: m, newSize: n)
                let old = TreeHead(size: m, root: tree.root(size: m)), new = TreeHead(size: n, root: tree.root(size: n))
                #expect(MerkleProof.verifyConsistency(old: old, new: new, proof: proof), "\(m) → \(n)")
            }
        }
    }

    @Test func mutatedInclusionProofsFail() {
        let tree = MerkleTree(leafHashes: leaves(38))
        let other = MerkleHash.leaf(Array("other".utf8))
        for n in UInt64(2)...37 {
            let root = tree.root(size: n)
            for i in stride(from: UInt64(0), to: n, by: 3) {
                let proof = tree.inclusionProof(index: i, size: n)
                let leaf = tree.leafHash(at: i)
                func ok(_ p: [Hash32], index: UInt64 = i, size: UInt64 = n, leafHash: Hash32 = leaf) -> Bool {
                    MerkleProof.verifyInclusion(leafHash: leafHash, index: index, size: size, proof: p, root: root)
                }
                #expect(!ok(proof + [other]), "extra hash")
                #expect(!ok(Array(proof.dropLast())), "missing hash")
                #expect(!ok([]), "truncated")
                #expect(!ok(proof, index: (i + 1) % n), "wrong index")
                #expect(!ok(proof, index: n), "index beyond size")
                // A proof only fixes the shape of the path; a wrong size is caught against that size's root.
                #expect(!MerkleProof.verifyInclusion(leafHash: leaf, index: i, size: n + 1, proof: proof, root: tree.root(size: n + 1)),
                        "wrong size")
                #expect(!ok(proof, leafHash: other), "wrong leaf")
                for j in proof.indices {
                    var flipped = proof
                    var bytes = flipped[j].bytes
                    bytes[j % 32] ^= 0x01
                    flipped[j] = Hash32(hex: bytes.hex)!
                    #expect(!ok(flipped), "bit flip in hash \(j)")
                }
            }
        }
    }

    @Test func mutatedConsistencyProofsFail() {
        let tree = MerkleTree(leafHashes: leaves(33))
        let other = MerkleHash.leaf(Array("other".utf8))
        for n in UInt64(2)...33 {
            for m in 1..<n {
                let proof = tree.consistencyProof(oldSize: m, newSize: n)
                let old = TreeHead(size: m, root: tree.root(size: m)), new = TreeHead(size: n, root: tree.root(size: n))
                #expect(!MerkleProof.verifyConsistency(old: old, new: new, proof: proof + [other]))
                #expect(!MerkleProof.verifyConsistency(old: old, new: new, proof: Array(proof.dropLast())))
                #expect(!MerkleProof.verifyConsistency(old: TreeHead(size: m, root: other), new: new, proof: proof))
                #expect(!MerkleProof.verifyConsistency(old: new, new: old, proof: proof))
                if m > 1 {
                    let wrongOld = TreeHead(size: m - 1, root: tree.root(size: m - 1))
                    #expect(!MerkleProof.verifyConsistency(old: wrongOld, new: new, proof: proof))
                }
                var flipped = proof
                flipped[0] = other
                #expect(!MerkleProof.verifyConsistency(old: old, new: new, proof: flipped))
            }
        }
        let head = tree.head
        #expect(!MerkleProof.verifyConsistency(old: head, new: head, proof: [other]))
    }
}
