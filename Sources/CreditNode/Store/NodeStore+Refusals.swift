import CreditStorage
public import Foundation
import GRDB
import SyncProtocol
public import SyncTransport

/// A record write this node acknowledged to its provider that the hub then refused to merge
/// (`Protocol/merge.md` §3): another node was the record's home, the record had been revoked,
/// or the hub's catalog would not take it. The write changed nothing in the province; for a record
/// the hub holds, the fan-out brings this node back to the hub's version (merge.md §4), if it has
/// not already.
public struct RefusedWrite: Sendable, Codable, Equatable {
    /// The write's sequence in this node's log: what the provider API answered when it took it.
    public var sequence: UInt64
    /// `create`, `correct` or `revoke`.
    public var operation: String
    public var provider: String
    public var item: String
    public var recordId: String
    /// The hub's refusal code (`not-home`, `revoked`, `unknown-record`, `invalid-record`,
    /// `key-mismatch`, `catalog-version`, `not-canonical`, `not-in-area`), the field at fault and
    /// its message.
    public var code: String
    public var field: String
    public var message: String
    /// When the hub received the write.
    public var refusedAt: Date
}

extension NodeStore {
    /// The last sequence of this node's log through which the hub's refusals are known: every
    /// record write up to it that the hub refused is in ``refusedWrites(provider:after:limit:)``.
    public func refusalsLearnedThrough() throws -> UInt64 {
        try writer.read { try $0.metaInt(.refusalsThrough) }
    }

    /// Files a refusal list the hub signed (``RefusalList``, opened and checked by the caller),
    /// asked for after ``refusalsLearnedThrough()``. Returns how many record writes it newly lists.
    ///
    /// A list for a log other than this node's (the hub's root at its position differs from this
    /// log's) is not filed: the pusher reports the divergence. A hub that holds less of this
    /// node's log than was learned (restored from an older backup) takes back what it said past
    /// its position: the changes it lost are pushed again and merged anew, and may not be refused
    /// this time. A list from another hub process than the word learned (``RefusalList/incarnation``)
    /// voids that word: it is forgotten, and learned again from 0. Rights changes are left out:
    /// their refusals settle at the case (rights.md §4).
    /// - Throws: ``WireError/inconsistent(_:)`` when a listed refusal names a record other than
    ///   the one this node's change of that sequence wrote.
    @discardableResult
    public func learnRefusals(_ list: RefusalList) throws -> Int {
        guard try logFrontier(matching: list.position) != nil else { return 0 }
        return try writer.write { db in
            // Another hub process's word is void (a restored hub decides anew what it merges
            // again): forgotten, and learned again from 0 of this one.
            let incarnation = Data(list.incarnation.utf8)
            if try db.meta(.refusalsIncarnation) != incarnation {
                try db.forgetRefusals()
                try db.setMeta(.refusalsIncarnation, incarnation)
            }
            // Another answer was filed first (two lists asked for at once), or the list answers
            // a word just forgotten: this one is stale.
            guard try db.metaInt(.refusalsThrough) == list.after else { return 0 }
            if list.through < list.after {
                try db.execute(sql: "DELETE FROM record_refused WHERE sequence > ?", arguments: [Int64(list.through)])
                try db.setMetaInt(.refusalsThrough, list.through)
                return 0
            }
            var listed = 0
            for refusal in list.refusals {
                guard let stored = try Data.fetchOne(db, sql: "SELECT change FROM log_entry WHERE sequence = ?", arguments: [Int64(refusal.sequence)]) else {
                    throw WireError.inconsistent("the hub refused change \(refusal.sequence), past this node's log")
                }
                let change = try Change(decoding: try StoredPayload.decompress(stored))
                guard change.key.description == refusal.recordKey else {
                    throw WireError.inconsistent("the hub refused change \(refusal.sequence) as one of \(refusal.recordKey); this node's is of \(change.key)")
                }
                guard !change.operation.isRights else { continue }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO record_refused(sequence, record_key, operation, code, field, message, refused_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [Int64(refusal.sequence), refusal.recordKey, change.operation.name, refusal.code, refusal.field,
                                     refusal.message, Int64(clamping: refusal.receivedAt)])
                listed += 1
            }
            try db.setMetaInt(.refusalsThrough, list.through)
            return listed
        }
    }

    /// The refused record writes of `provider`'s records after sequence `after`, oldest first.
    public func refusedWrites(provider: String, after: UInt64 = 0, limit: Int = 1000) throws -> [RefusedWrite] {
        try writer.read { db in
            // Keys are "provider/item/recordId": a provider's are those from "provider/" up to
            // "provider0" ('0' follows '/').
            try Row.fetchAll(db, sql: """
                SELECT * FROM record_refused WHERE record_key >= ? AND record_key < ? AND sequence > ? ORDER BY sequence LIMIT ?
                """, arguments: [provider + "/", provider + "0", Int64(clamping: after), limit]).map(Self.refusedWrite)
        }
    }

    /// How many record writes of this node the hub refused, as far as it has told.
    public func refusedWriteCount() throws -> Int {
        try writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM record_refused") ?? 0 }
    }

    /// Every refused record write this node knows of, oldest first (what the simulator compares
    /// with the hub).
    public func refusedWrites() throws -> [RefusedWrite] {
        try writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM record_refused ORDER BY sequence").map(Self.refusedWrite) }
    }

    static func refusedWrite(_ row: Row) -> RefusedWrite {
        let key = RecordKey(storageKey: row["record_key"])
        return RefusedWrite(sequence: UInt64(row["sequence"] as Int64), operation: row["operation"], provider: key.provider, item: key.item,
                            recordId: key.recordId, code: row["code"], field: row["field"], message: row["message"],
                            refusedAt: Date(timeIntervalSince1970: Double(row["refused_at"] as Int64) / 1000))
    }
}

extension Database {
    /// Forgets every refusal filed and the sequence they were learned through: what a hub said
    /// that no longer stands (a restored hub, another hub process), to be learned again from 0.
    func forgetRefusals() throws {
        try execute(sql: "DELETE FROM record_refused")
        try setMetaInt(.refusalsThrough, 0)
    }
}
