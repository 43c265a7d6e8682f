import Foundation
import SyncProtocol

/// What `GET /v1/refusals` answers (`Protocol/provider-api.openapi.json`): the record writes of
/// the credential's unit that this node acknowledged and the hub then refused to merge.
public struct RefusalPage: Sendable, Encodable, Equatable {
    /// The hub's word is known for every change of this node's log through this sequence: a write
    /// of the unit up to it that is not listed became the province's version (or was a duplicate
    /// of it).
    public var learnedThrough: UInt64
    /// The last sequence of this node's log the hub has acknowledged. Writes after
    /// `learnedThrough` wait for the hub's word; after `acknowledged`, for the push.
    public var acknowledged: UInt64
    /// Oldest first, at most ``NodeService/refusalPageSize``; ask again after the last one's
    /// sequence for more.
    public var refusals: [RefusedWrite]
}

extension NodeService {
    /// The most refusals one page lists.
    public static let refusalPageSize = 1000

    /// The refused record writes of `identity`'s unit after sequence `after`. A unit reads its own
    /// (whichever of its credentials wrote them): a refusal quotes the record it refused.
    public func refusedWrites(after: UInt64, by identity: ProviderIdentity) throws -> RefusalPage {
        RefusalPage(learnedThrough: try store.refusalsLearnedThrough(), acknowledged: try store.acknowledgedPosition(),
                    refusals: try store.refusedWrites(provider: identity.unit, after: after, limit: Self.refusalPageSize))
    }
}
