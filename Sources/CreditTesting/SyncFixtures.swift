public import SyncProtocol
import Foundation

/// Deterministic keys and changes for the sync-protocol tests.
public enum SyncFixtures {
    /// The fixed test key `name`: its seed is SHA-256("creditsync test key " + name), as in
    /// `Protocol/tools/make-sync-vectors.py`.
    public static func key(_ name: String) -> SigningKey {
        try! SigningKey(seed: Hash32.sha256(Array("creditsync test key \(name)".utf8)).bytes)
    }

    /// A change of `node` with `sequence`.
    public static func change(node: String = "360100", sequence: UInt64, operation: ChangeOperation = .create,
                              payload: String = #"{"item":"administrative-punishment"}"#) -> Change {
        Change(node: node, sequence: sequence,
               key: RecordKey(provider: "11360100000001001X", item: "administrative-punishment", recordId: "CF-\(sequence)"),
               operation: operation, credential: "cred-1",
               reason: operation.isCorrection ? "原处罚决定被复议撤销" : "",
               decisionDocument: operation.isCorrection ? "洪复决〔2026〕\(sequence)号" : "",
               effectiveAt: 1_790_000_000_000 + sequence, acceptedAt: 1_790_000_001_000 + sequence,
               catalogVersion: "national@2026.1+jiangxi@2026.1", payload: Array(payload.utf8))
    }

    /// A registry trusting `keys` for their signers.
    public static func registry(_ keys: [(String, SigningKey)]) -> KeyRegistry {
        var registry = KeyRegistry()
        for (signer, key) in keys { try! registry.enroll(key.publicKey, for: signer) }
        return registry
    }

    /// A signed change set of `count` changes of `node` starting after `frontier`.
    public static func changeSet(node: String = "360100", key: SigningKey, after frontier: MerkleFrontier = MerkleFrontier(),
                                 count: Int, payload: String = #"{"item":"administrative-punishment"}"#) throws -> (Envelope, ChangeSet) {
        let changes = (0..<count).map { change(node: node, sequence: frontier.size + 1 + UInt64($0), payload: payload).encoded }
        let set = try ChangeSet(node: node, keyId: key.keyId, encodedChanges: changes, before: frontier, createdAt: 1_790_000_002_000)
        return (try set.signed(with: key), set)
    }
}
