public import Foundation
import GRDB
public import SyncProtocol

/// One fanned-out change from another node, with what the node needs to file it.
public struct RemoteWrite: Sendable {
    public var position: UInt64
    public var change: Change
    public var prepared: PreparedWrite

    public init(position: UInt64, change: Change, prepared: PreparedWrite) {
        self.position = position
        self.change = change
        self.prepared = prepared
    }
}

extension NodeStore {
    /// The last hub log position applied.
    public func fanOutPosition() throws -> UInt64 {
        try writer.read { try $0.metaInt(.fanOutApplied) }
    }

    /// The hub log head pinned from the last batch.
    public func pinnedHubHead() throws -> TreeHead? {
        try writer.read { db in
            guard let data = try db.meta(.hubHead), data.count > 32 else { return nil }
            let size = UInt64(String(decoding: data.dropFirst(32), as: UTF8.self)) ?? 0
            return TreeHead(size: size, root: Hash32.from(data.prefix(32)))
        }
    }

    /// Applies a batch in one transaction with the new position: each change not yet held
    /// (by origin node and sequence) becomes a new version of its record. Applying a batch twice
    /// changes nothing.
    /// - Returns: how many changes were new.
    @discardableResult
    public func applyFanOut(_ writes: [RemoteWrite], through position: UInt64, hubHead: TreeHead, at: UInt64) throws -> Int {
        try writer.write { db in
            let applied = try db.metaInt(.fanOutApplied)
            guard position > applied || writes.contains(where: { $0.position > applied }) else { return 0 }
            var count = 0
            for w in writes where w.position > applied {
                let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM record_version WHERE origin_node = ? AND origin_sequence = ?",
                                               arguments: [w.change.node, Int64(w.change.sequence)]) ?? false
                if exists { continue }
                let storageKey = w.change.key.storageKey
                let current = try Row.fetchOne(db, sql: "SELECT version FROM record WHERE record_key = ?", arguments: [storageKey])
                if current == nil, w.change.operation != .create { continue } // a correction of a record this node never held
                let version = ((current?["version"] as Int?) ?? 0) + 1
                let p = w.prepared
                try db.execute(sql: """
                    INSERT INTO record_version(record_key, version, operation, origin_node, origin_sequence, hub_position, credential,
                        reason, decision_document, effective_at, accepted_at, catalog_version, content_hash, payload)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [storageKey, version, w.change.operation.name, w.change.node, Int64(w.change.sequence),
                                     Int64(w.position), w.change.credential, w.change.reason, w.change.decisionDocument,
                                     Int64(w.change.effectiveAt), Int64(w.change.acceptedAt), w.change.catalogVersion,
                                     p.contentHash, String(decoding: p.payload, as: UTF8.self)])
                try upsertCurrent(db, p, storageKey: storageKey, version: version, hash: p.contentHash, origin: w.change.node, at: at)
                count += 1
            }
            try foldSubjectIndexIfDue(db)
            try db.setMetaInt(.fanOutApplied, max(applied, position))
            try db.setMeta(.hubHead, hubHead.root.data + Data(String(hubHead.size).utf8))
            try db.setMetaInt(.lastFanOutAt, at)
            return count
        }
    }
}
