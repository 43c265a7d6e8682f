import Foundation
public import SyncProtocol

/// The hub's signed word on which of one node's changes it refused to merge
/// (`Protocol/hub-api.md`, `GET /v1/nodes/{node}/refusals`): how a provider learns that a write
/// its node acknowledged did not become the province's version (`Protocol/merge.md` §3).
///
/// The list covers the node's sequences after `after` through `through`: every refused change in
/// that range is listed, so a sequence in it that is not listed was merged or was a duplicate.
/// `through` is never past the hub's position for the node (`acknowledged`, whose changes are all
/// merged or refused when the hub answers), and it stops at the last listed sequence when the
/// answer holds ``limit`` refusals.
public struct RefusalList: SignedJSONAnswer, Equatable {
    /// One refused change: the node's own sequence, and the refusal as the hub keeps it.
    public struct Refusal: Sendable, Equatable, Codable {
        public var sequence: UInt64
        /// `provider/item/recordId`.
        public var recordKey: String
        /// The refusal code of `Protocol/merge.md` §3 (`not-home`, `revoked`, …).
        public var code: String
        public var field: String
        public var message: String
        /// When the hub received the change's set, in milliseconds since 1970.
        public var receivedAt: UInt64

        public init(sequence: UInt64, recordKey: String, code: String, field: String, message: String, receivedAt: UInt64) {
            self.sequence = sequence
            self.recordKey = recordKey
            self.code = code
            self.field = field
            self.message = message
            self.receivedAt = receivedAt
        }
    }

    public var node: String
    public var after: UInt64
    public var through: UInt64
    /// The hub's position for the node when it answered, and the node-log root at it: a node
    /// whose log has another root there holds another log, and learns nothing from the list.
    public var acknowledged: UInt64
    public var treeRoot: String
    /// When the hub answered, in milliseconds since 1970.
    public var at: UInt64
    /// The hub process that answered, drawn when it started (16 lowercase hex digits). A node
    /// keeps the word of one: a hub restored from a backup decides anew what it merges again, so
    /// what another process said is void (`Protocol/hub-api.md`).
    public var incarnation: String
    public var refusals: [Refusal]

    public init(node: String, after: UInt64, through: UInt64, acknowledged: UInt64, treeRoot: String, at: UInt64, incarnation: String,
                refusals: [Refusal]) {
        self.node = node
        self.after = after
        self.through = through
        self.acknowledged = acknowledged
        self.treeRoot = treeRoot
        self.at = at
        self.incarnation = incarnation
        self.refusals = refusals
    }

    /// The hub's position for the node the list was read at.
    public var position: HubPosition { HubPosition(acknowledged: acknowledged, treeRoot: treeRoot) }

    /// The most refusals one answer lists.
    public static let limit = 1000

    /// The envelope's payload type.
    public static let payloadType = "creditsync/refusals/v1"

    /// Opens a list signed by an active key of `hub` for `node` that answers `after`, and checks
    /// that it keeps its own rules: refusals in order, each within the range it covers.
    public static func open(_ bytes: [UInt8], hub: String, keys: KeyRegistry, node: String, after: UInt64) throws -> RefusalList {
        let list = try verified(bytes, hub: hub, keys: keys)
        guard list.node == node, list.after == after else {
            throw WireError.inconsistent("a refusal list of node \(list.node) after \(list.after) was answered to \(node) after \(after)")
        }
        guard list.through <= list.acknowledged, list.refusals.count <= limit else {
            throw WireError.inconsistent("a refusal list through \(list.through) with \(list.refusals.count) refusals, the hub holding \(list.acknowledged)")
        }
        var previous = after
        for refusal in list.refusals {
            guard refusal.sequence > previous, refusal.sequence <= list.through else {
                throw WireError.inconsistent("refusal of sequence \(refusal.sequence) out of order or outside \(after)…\(list.through)")
            }
            previous = refusal.sequence
        }
        return list
    }
}
