public import Foundation
public import CreditCore
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
    /// The providing units a node may write records for (`Protocol/merge.md` §1).
    func providingArea(_ node: String) throws -> ProvidingArea
    /// Checks continuity and tree heads, keeps the evidence, merges, signs the receipt: atomically.
    func ingest(_ prepared: PreparedSet, hub: String, key: SigningKey, receivedAt: Date) async throws -> IngestOutcome
    /// The receipt of the set this hub accepted from `node` starting at `first`, if its envelope has `digest`.
    func storedReceipt(node: String, first: UInt64, envelopeDigest digest: Hash32) throws -> [UInt8]?
    /// The node's acknowledged position and log root: only changes already merged (logged or refused),
    /// so that a fan-out read after it covers them (`Protocol/hub-api.md`, position).
    func position(node: String) throws -> HubPosition?
    /// The hub log's tree head.
    func hubHead() throws -> TreeHead
    /// Hub-log entries after a position for a node (its own effective record changes left out,
    /// re-assertions and every rights change in), within a count and a byte budget.
    func fanOut(node: String, after: UInt64, limit: Int, maxBytes: Int) throws -> (entries: [(UInt64, [UInt8])], to: UInt64, head: TreeHead)
    /// A node's own changes after a sequence, within a count and a byte budget, and its log head.
    func nodeChanges(node: String, after: UInt64, limit: Int, maxBytes: Int) throws -> (changes: [(UInt64, [UInt8])], head: TreeHead)
    /// Notes the last position served to a node (the most its acknowledgement may claim) and
    /// the position its request said it has applied (what its lag counts from).
    func noteServed(node: String, through position: UInt64, applied: UInt64) async throws
    /// Records a node's fan-out acknowledgement and closes the corrections it completes; throws
    /// ``AcknowledgementError`` beyond what was served.
    @discardableResult
    func acknowledgeFanOut(node: String, through position: UInt64, at: Date) async throws -> [Double]
    /// Every node's lag at `now`.
    func lags(now: Date) throws -> [NodeLag]
    /// Corrections still open, and those received or completed since a moment.
    func corrections(openOrClosedSince since: Date) throws -> [CorrectionRow]
    /// Corrections received in a period.
    func corrections(receivedFrom from: Date?, to: Date?, openOnly: Bool) throws -> [CorrectionRow]
    /// Credit subjects' cases still open or waiting for a node, and those received or whose label or grant reached every node since a moment.
    func rightsCases(openOrClosedSince since: Date) throws -> [RightsCaseRow]
    /// Credit subjects' cases received in a period.
    func rightsCases(receivedFrom from: Date?, to: Date?) throws -> [RightsCaseRow]
    /// Every record filed under a subject key, with its status, content hash and cases (Article 38).
    func subjectAttestationEntries(_ subjectKey: String) throws -> [SubjectAttestation.Entry]
    /// One case, or `nil`.
    func rightsCase(_ id: String) throws -> RightsCaseRow?
    /// Conflicts, unresolved first.
    func conflicts(limit: Int) throws -> [ConflictRow]
    /// The most recent refused changes, newest first.
    func refusals(limit: Int) throws -> [ChangeRefusal]
    /// A node's refused changes after a sequence, with the position they are read at.
    func refusalList(node: String, after: UInt64, limit: Int) throws -> (position: HubPosition, through: UInt64, refusals: [RefusalList.Refusal])?
    /// The consistency proof between two sizes of the hub log.
    func consistencyProof(first: UInt64, second: UInt64) throws -> [Hash32]
    /// An entry's leaf hash and inclusion proof in the hub log at a size.
    func inclusionProof(position: UInt64, size: UInt64) throws -> (leaf: Hash32, proof: [Hash32])
    /// The root of the hub log's first entries, `nil` past its end.
    func hubRoot(size: UInt64) throws -> Hash32?
    /// Records a pinned head that the hub log does not contain; whether it is new.
    @discardableResult
    func reportFork(node: String, pinned: TreeHead, at: Date) throws -> Bool
    /// The fork reports, newest first.
    func forkReports() throws -> [ForkReport]
    /// The id of the admin log's newest row.
    func lastAdminActionID() throws -> Int64
    /// The operators' admin log after a row.
    func adminActions(after: Int64, limit: Int) throws -> [AdminAction]
    /// Counts for metrics.
    func counts() throws -> (equivocations: Int, conflicts: Int, openConflicts: Int, hubLog: Int, records: Int)
}

extension HubStore: ProvincialStore {}
