import Foundation
import Hummingbird
public import SyncProtocol

/// The hub log's public face (`Protocol/hub-api.md`, Log proofs): its signed head, and proofs
/// that let a node check every new head against the one it pinned, and an auditor any entry.
extension HubService {
    /// The hub log's tree head, signed: `creditsync/treehead/v1`.
    public func signedTreeHead() throws -> [UInt8] {
        let head = try store.hubHead()
        return try SignedTreeHead(log: id, keyId: key.keyId, head: head, timestamp: UInt64(HubStore.millis(now()))).signed(with: key).encoded
    }

    /// The consistency proof from the log's first `first` entries to its first `second`; 400
    /// `beyond-log` past its end.
    public func consistencyProof(first: UInt64, second: UInt64) throws -> [Hash32] {
        do { return try store.consistencyProof(first: first, second: second) } catch let error as ProofRangeError {
            throw HubError(.badRequest, "beyond-log", error.description)
        }
    }

    /// Entry `position`'s leaf hash and inclusion proof at `size`; 400 `beyond-log` past the end.
    public func inclusionProof(position: UInt64, size: UInt64) throws -> (leaf: Hash32, proof: [Hash32]) {
        do { return try store.inclusionProof(position: position, size: size) } catch let error as ProofRangeError {
            throw HubError(.badRequest, "beyond-log", error.description)
        }
    }

    /// Checks the hub head `node` says it pinned against this log. One the log does not contain
    /// — past its end, or another root at that size — is a fork report: kept, counted and shown
    /// to operators. The push it came with is taken all the same; the nodes' evidence (two signed
    /// heads no consistency proof joins) is what proves a rewritten history.
    public func checkPinned(node: String, head: TreeHead) throws {
        if pinnedVerified.withLock({ $0[node] == head }) { return }
        if let root = try store.hubRoot(size: head.size), root == head.root {
            pinnedVerified.withLock { $0[node] = head }
            return
        }
        if try store.reportFork(node: node, pinned: head, at: now()) {
            metrics.forkReportCounter(node: node).increment()
            let log = try store.hubHead()
            logger.error("fork report: a node pinned a hub head this log does not contain (restored from an older backup, or another history shown)",
                         metadata: ["node": "\(node)", "pinned": "\(head)", "log": "\(log)"])
        }
    }
}
