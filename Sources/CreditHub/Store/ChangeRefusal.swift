public import Foundation
public import SyncProtocol

/// A change the hub accepted as part of its change set (the node's log goes on) but refused to
/// merge: outside its node's authority, after a revocation, or invalid against the catalog
/// (`Protocol/merge.md` §3). It changed nothing; operators see it in `/v1/status`, the
/// `creditsync_hub_refused_changes_total` counter and the dashboard (``HubStore/refusals(limit:)``).
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
    /// When the hub received the change's set; `nil` until the refusal is stored.
    public var receivedAt: Date?

    public init(_ change: Change, code: String, field: String, message: String) {
        self.init(node: change.node, sequence: change.sequence, recordKey: change.key.description, code: code, field: field,
                  message: message)
    }

    public init(node: String, sequence: UInt64, recordKey: String, code: String, field: String, message: String, receivedAt: Date? = nil) {
        self.node = node
        self.sequence = sequence
        self.recordKey = recordKey
        self.code = code
        self.field = field
        self.message = message
        self.receivedAt = receivedAt
    }
}
