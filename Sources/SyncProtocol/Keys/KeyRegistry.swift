/// The keys a verifier trusts, per signer: the hub's registry of node keys, or a node's pinned
/// hub key. A signer may have several active keys during a rollover; a revoked key verifies
/// nothing from then on.
public struct KeyRegistry: Sendable {
    /// A key's standing.
    public enum Status: String, Sendable, Codable { case active, revoked }

    /// One enrolled key.
    public struct Entry: Sendable {
        public var signer: String
        public var key: VerifyingKey
        public var status: Status
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// Enrolls `key` for `signer`, or re-activates it. A key id belongs to one signer only.
    /// - Throws: ``KeyError/malformed(_:)`` when the key is enrolled for another signer.
    public mutating func enroll(_ key: VerifyingKey, for signer: String) throws(KeyError) {
        if let existing = entries[key.keyId], existing.signer != signer {
            throw .malformed("key \(key.keyId) is already enrolled for \(existing.signer)")
        }
        entries[key.keyId] = Entry(signer: signer, key: key, status: .active)
    }

    /// Revokes a key; messages signed only by it are refused from now on.
    public mutating func revoke(keyId: String) {
        entries[keyId]?.status = .revoked
    }

    /// The key with `keyId` when it is active and belongs to `signer`.
    public func activeKey(_ keyId: String, of signer: String) -> VerifyingKey? {
        guard let entry = entries[keyId], entry.signer == signer, entry.status == .active else { return nil }
        return entry.key
    }

    /// The enrolled key with `keyId`, whatever its status.
    public func entry(_ keyId: String) -> Entry? { entries[keyId] }

    /// Every key enrolled for `signer`.
    public func keys(of signer: String) -> [Entry] {
        entries.values.filter { $0.signer == signer }.sorted { $0.key.keyId < $1.key.keyId }
    }
}
