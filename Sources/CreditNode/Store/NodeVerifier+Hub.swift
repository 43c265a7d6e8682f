import Foundation
public import SyncProtocol
public import SyncTransport

extension NodeVerifier {
    /// The offline check, then the node's state against the live hub (`creditsync node verify
    /// --config`): the hub's signed head extends the head this node pinned (a consistency proof
    /// the hub serves), and the hub's signed position for this node names a prefix of this
    /// node's log with the same root. Read-only on both sides.
    public static func verify(path: String, node: String, hub: String, hubKeys: KeyRegistry,
                              transport: HTTPHubTransport) async throws -> Report {
        let (offline, tree, pinned) = try check(path: path, hubKeys: hubKeys, hub: hub)
        var report = offline
        do {
            let live = try await transport.treeHead().head
            report.live.append("hub log head \(live.size) (signed)")
            if let pinned {
                if live.size < pinned.size {
                    report.problems.append("the hub's log holds \(live.size) entries, fewer than the \(pinned.size) this node pinned")
                } else {
                    let proof = try await transport.consistencyProof(first: pinned.size, second: live.size)
                    if MerkleProof.verifyConsistency(old: pinned, new: live, proof: proof) {
                        report.live.append("pinned hub head \(pinned.size) is a prefix of the live log (consistency proof of \(proof.count) hashes)")
                    } else {
                        report.problems.append("no consistency proof joins the pinned hub head \(pinned) to the live head \(live): the hub's history changed")
                    }
                }
            }
            let position = try await transport.position(node: node)
            if position.acknowledged > tree.size {
                report.problems.append("the hub holds \(position.acknowledged) changes of this node, whose log has \(tree.size)")
            } else if position.treeRoot != tree.root(size: position.acknowledged).hex {
                report.problems.append("the hub's copy of this node's first \(position.acknowledged) changes has another root")
            } else {
                report.live.append("the hub holds this node's first \(position.acknowledged) changes with the same root (signed position)")
            }
        } catch {
            report.problems.append("the live hub could not be checked: \(error)")
        }
        return report
    }
}
