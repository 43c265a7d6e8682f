public import SyncProtocol

/// A change the hub accepted as part of its change set (the node's log goes on) but refused to
/// merge: outside its node's authority, after a revocation, or invalid against the catalog
/// (`Protocol/merge.md` §3). It changed nothing; operators see it in `/v1/status`, the
/// `creditsync_hub_refused_changes_total` counter and the dashboard.
public struct ChangeRefusal: Sendable, Equatable, Codable {
    public var node: String
    public var sequence: UInt64
    /// `provider/item/recordId`.
    public var recordKey: String
    /// `not-home`, `revoked`, `unknown-record`, `invalid-record`, `key-mismatch`,
    /// `catalog-version` or `not-canonical`.
    public var code: String
    /// The field at fault, as the provider API names it (`subject.uscc`, `fields.decisionDate`, …).
    public var field: String
    public var message: String

    public init(_ change: Change, code: String, field: String, message: String) {
        node = change.node
        sequence = change.sequence
        recordKey = change.key.description
        self.code = code
        self.field = field
        self.message = message
    }
}
