import Foundation
import CreditStorage
import GRDB
public import SyncProtocol

/// One fanned-out change from another node, with what the node needs to file it.
public struct RemoteWrite: Sendable {
    public var position: UInt64
    public var change: Change
    public var prepared: PreparedWrite
    /// The rights document of a change of operation 4–7 (`Protocol/rights.md`); `nil` otherwise.
    public var rights: RightsEvent?
    /// The change's bytes' leaf hash: how the node recognizes its own rights changes coming back.
    public var leaf: Hash32?
    /// The record as its history row keeps it (``StoredPayload``; empty for a revocation or a
    /// rights change). Compressed here, where the batch is prepared on another core, so that the
    /// writer, which a node catching up keeps busy, only writes.
    public var storedPayload: [UInt8]

    public init(position: UInt64, change: Change, prepared: PreparedWrite, rights: RightsEvent? = nil, leaf: Hash32? = nil) {
        self.position = position
        self.change = change
        self.prepared = prepared
        self.rights = rights
        self.leaf = leaf
        storedPayload = change.operation.isRights || prepared.payload.isEmpty ? [] : StoredPayload.compress(prepared.payload)
    }
}

/// Where a node's fan-out stands before it asks for a batch, read in one transaction.
public struct FanOutState: Sendable {
    /// The last hub log position applied.
    public var applied: UInt64
    /// The hub log head pinned from the last batch.
    public var pinned: TreeHead?
    /// Whether a pending rights change of this node is within what the hub acknowledged: the
    /// next batch is then asked for after the hub's position, which can settle it.
    public var rightsAwaitingTheHub: Bool
    /// Whether any rights change of this node is still on its way (receipted or not).
    public var rightsPending: Bool
}

extension NodeStore {
    /// The fan-out position, pinned head and pending rights changes together, in one read: a
    /// receiver reads them before its first pull and after catching up; at the head it asks again
    /// with the state its last apply read in the apply's own transaction (``applyFanOut(_:through:hubHead:at:hubHolds:)``).
    public func fanOutState() throws -> FanOutState {
        try writer.read { try $0.fanOutState() }
    }

    /// The last hub log position applied.
    public func fanOutPosition() throws -> UInt64 {
        try writer.read { try $0.metaInt(.fanOutApplied) }
    }

    /// The hub log head pinned from the last batch.
    public func pinnedHubHead() throws -> TreeHead? {
        try writer.read { try $0.pinnedHubHead() }
    }

    /// Applies a batch in one transaction with the new position: each entry becomes the record's
    /// current version unless the record already is what the entry says (the same content and
    /// status), so the node ends on the hub's decision whatever it held before — its own losing
    /// version included, when the hub re-asserts the winner (`Protocol/merge.md` §4). An identical
    /// copy logs nothing, and applying a batch twice changes nothing.
    /// - Returns: how many entries changed a record, and the fan-out state the transaction left
    ///   (``fanOutState()`` read in it): a node at the head asks for its next batch with it, rather
    ///   than reading it again in a transaction of its own.
    ///
    /// `hubHolds` is the hub's position for this node's log, when it was read before the batch
    /// was asked for: a pending rights change it covers that has not come back once the fan-out
    /// is applied through the batch's hub head was refused (``settlePendingRights(_:hubHolds:hubSize:applied:at:)``).
    @discardableResult
    public func applyFanOut(_ writes: [RemoteWrite], through position: UInt64, hubHead: TreeHead, at: UInt64,
                            hubHolds: UInt64? = nil) throws -> (changed: Int, state: FanOutState) {
        try writer.write { db in
            let applied = try db.metaInt(.fanOutApplied)
            guard position > applied || writes.contains(where: { $0.position > applied }) else {
                try settlePendingRights(db, hubHolds: hubHolds, hubSize: hubHead.size, applied: applied, at: at)
                return (0, try db.fanOutState())
            }
            var count = 0
            // Prepared once per batch: parsing each statement again for every record cost the
            // applying nodes more than the writes themselves.
            let lookup = try FastStatement(db, "SELECT version, status, content_hash, subjects, origin_node FROM record WHERE record_key = ?")
            let insertVersion = try FastStatement(db, """
                INSERT INTO record_version(record_key, version, operation, origin_node, origin_sequence, hub_position, credential,
                    reason, decision_document, effective_at, accepted_at, catalog_version, content_hash, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let current = try CurrentStatements(db)
            for w in writes where w.position > applied {
                if w.change.operation.isRights {
                    if try applyRights(db, w) { count += 1 }
                    continue
                }
                let storageKey = w.change.key.storageKey
                let p = w.prepared
                lookup.bind(storageKey)
                let held: (version: Int64, status: String, hash: Data, subjects: String, home: String)? = try lookup.next()
                    ? (lookup.int(0), lookup.text(1), lookup.blob(2), lookup.text(3), lookup.text(4)) : nil
                if held != nil { lookup.finish() }
                if let held {
                    let same = w.change.operation == .revoke ? held.status == "revoked" : held.status == "active" && held.hash == p.contentHash
                    if same {
                        // The copy this node holds, from the record's home: the hub logs a create,
                        // correction or revocation only from there. A node that wrote the same
                        // record first (the hub deduplicated its copy) learns whose it is, so it
                        // refuses its providers' changes to it rather than take writes the hub
                        // will undo (merge.md §1).
                        if held.home != w.change.node {
                            try db.execute(sql: "UPDATE record SET origin_node = ? WHERE record_key = ?", arguments: [w.change.node, storageKey])
                        }
                        continue
                    }
                } else if w.change.operation != .create {
                    continue // a change to a record this node never held
                }
                let version = (held?.version ?? 0) + 1
                insertVersion.bind(storageKey, version, w.change.operation.name, w.change.node, Int64(w.change.sequence),
                                   Int64(w.position), w.change.credential, w.change.reason, w.change.decisionDocument,
                                   Int64(w.change.effectiveAt), Int64(w.change.acceptedAt), w.change.catalogVersion,
                                   p.contentHash, w.storedPayload)
                try insertVersion.run()
                try upsertCurrent(db, p, storageKey: storageKey, version: Int(version), hash: p.contentHash, origin: w.change.node, at: at,
                                  statements: current, previousSubjects: held?.subjects ?? "")
                count += 1
            }
            try foldSubjectIndexIfDue(db)
            try db.setMetaInt(.fanOutApplied, max(applied, position))
            try settlePendingRights(db, hubHolds: hubHolds, hubSize: hubHead.size, applied: max(applied, position), at: at)
            try db.setMeta(.hubHead, hubHead.root.data + Data(String(hubHead.size).utf8))
            try db.setMetaInt(.lastFanOutAt, at)
            return (count, try db.fanOutState())
        }
    }
}

extension Database {
    /// The node's fan-out state as this transaction sees it.
    func fanOutState() throws -> FanOutState {
        FanOutState(applied: try metaInt(.fanOutApplied), pinned: try pinnedHubHead(), rightsAwaitingTheHub: try rightsAwaitingTheHub(),
                    rightsPending: try Bool.fetchOne(try cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM rights_pending)")) ?? false)
    }

    /// The hub head pinned from the last batch applied, stored as `root ‖ decimal size`.
    func pinnedHubHead() throws -> TreeHead? {
        guard let data = try meta(.hubHead), data.count > 32 else { return nil }
        let size = UInt64(String(decoding: data.dropFirst(32), as: UTF8.self)) ?? 0
        return TreeHead(size: size, root: Hash32.from(data.prefix(32)))
    }
}
