public import Foundation
public import SyncProtocol
public import SyncTransport

/// What the hub's logic needs from the provincial store. ``HubStore`` (SQLite) is the default;
/// a PostgreSQL backend can take over behind this interface when the province outgrows one
/// machine, with the same contract tests run against it.
public protocol ProvincialStore: Sendable {
    /// The active keys of active nodes.
    func keyRegistry() throws -> KeyRegistry
    /// `active`, `revoked`, or `nil` for an unknown node.
    func nodeStatus(_ id: String) throws -> String?
    /// Checks continuity and tree heads, keeps the evidence, merges, signs the receipt: atomically.
    func ingest(_ prepared: PreparedSet, hub: String, key: SigningKey, receivedAt: Date) async throws -> IngestOutcome
    /// The node's acknowledged position and log root.
    func position(node: String) throws -> HubPosition?
    /// The hub log's tree head.
    func hubHead() throws -> TreeHead
    /// Hub-log entries after a position for a node (its own effective changes left out, re-assertions in),
    /// within a count and a byte budget.
    func fanOut(node: String, after: UInt64, limit: Int, maxBytes: Int) throws -> (entries: [(UInt64, [UInt8])], to: UInt64, head: TreeHead)
    /// A node's own changes after a sequence, within a count and a byte budget, and its log head.
    func nodeChanges(node: String, after: UInt64, limit: Int, maxBytes: Int) throws -> (changes: [(UInt64, [UInt8])], head: TreeHead)
    /// Notes the last position served to a node: the most its acknowledgement may claim.
    func noteServed(node: String, through position: UInt64) throws
    /// Records a node's fan-out acknowledgement and closes the corrections it completes; throws
    /// ``AcknowledgementError`` beyond what was served.
    @discardableResult
    func acknowledgeFanOut(node: String, through position: UInt64, at: Date) throws -> [Double]
    /// Every node's lag at `now`.
    func lags(now: Date) throws -> [NodeLag]
    /// Corrections still open, and those received since a moment.
    func corrections(openOrReceivedSince since: Date) throws -> [CorrectionRow]
    /// Corrections received in a period.
    func corrections(receivedFrom from: Date?, to: Date?, openOnly: Bool) throws -> [CorrectionRow]
    /// Conflicts, unresolved first.
    func conflicts(limit: Int) throws -> [ConflictRow]
    /// The most recent refused changes, newest first.
    func refusals(limit: Int) throws -> [ChangeRefusal]
    /// Counts for metrics.
    func counts() throws -> (equivocations: Int, conflicts: Int, openConflicts: Int, hubLog: Int, records: Int)
}

extension HubStore: ProvincialStore {}
