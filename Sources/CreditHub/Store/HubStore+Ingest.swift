import CreditCore
public import Foundation
import GRDB
public import SyncProtocol
import SyncTransport

/// The outcome of offering a verified change set to the store.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored and merged (or already held): the signed receipt to send back.
    case receipt([UInt8], newlyMerged: Int)
    /// The set does not continue the node's log where the hub holds it.
    case gap(expected: UInt64)
    /// A different set for a range the hub already acknowledged: kept as evidence, refused.
    case equivocation
    /// The tree heads do not follow from the node's log.
    case inconsistent(String)
}

/// What the merge of one change did.
enum MergeEffect {
    case effective
    case duplicate
    case superseded
}

extension HubStore {
    /// Offers a change set whose signature has been verified: continuity and tree heads are
    /// checked against the node's log, the raw envelope is stored as evidence, every change is
    /// merged, and the receipt is signed and stored — all in one transaction, so the receipt
    /// only leaves after everything it acknowledges is on disk.
    public func ingest(_ set: ChangeSet, envelope: [UInt8], hub: String, key: SigningKey, receivedAt: Date) throws -> IngestOutcome {
        let at = Self.millis(receivedAt)
        let digest = Hash32.sha256(envelope)
        return try writer.write { db in
            guard let node = try Row.fetchOne(db, sql: "SELECT log_size, log_frontier FROM node WHERE id = ?", arguments: [set.node]) else {
                throw RegistryError(description: "no node \(set.node)")
            }
            let size = UInt64(node["log_size"] as Int64)
            if set.first <= size {
                if let stored = try Row.fetchOne(db, sql: "SELECT digest, receipt FROM changeset WHERE node = ? AND first = ?",
                                                 arguments: [set.node, Int64(set.first)]),
                   (stored["digest"] as Data) == digest.data {
                    try db.execute(sql: "UPDATE node SET last_seen = ? WHERE id = ?", arguments: [at, set.node])
                    return .receipt(Array(stored["receipt"] as Data), newlyMerged: 0)
                }
                // Same changes regrouped, or different changes for sequences already held?
                var same = true
                for (i, change) in set.encodedChanges.enumerated() where set.first + UInt64(i) <= size {
                    let held = try Data.fetchOne(db, sql: "SELECT change FROM node_change WHERE node = ? AND sequence = ?",
                                                 arguments: [set.node, Int64(set.first) + Int64(i)])
                    if held.map(Array.init) != change { same = false; break }
                }
                if same { return .gap(expected: size + 1) }
                try db.execute(sql: "INSERT INTO equivocation(node, first, last, envelope, received_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [set.node, Int64(set.first), Int64(set.last), Data(envelope), at])
                return .equivocation
            }
            guard set.first == size + 1 else { return .gap(expected: size + 1) }
            let frontier = try MerkleFrontier(encoded: Array(node["log_frontier"] as Data))
            let extended: MerkleFrontier
            do { extended = try set.extend(frontier) } catch { return .inconsistent("\(error)") }

            var hubFrontier = try db.hubFrontier()
            var merged = 0
            for (change, bytes) in zip(set.changes, set.encodedChanges) {
                if try merge(db, change: change, bytes: bytes, hubFrontier: &hubFrontier, at: at) == .effective { merged += 1 }
            }
            try db.setHubMeta("hub.frontier", Data(hubFrontier.encoded))

            let receipt = Receipt(hub: hub, keyId: key.keyId, node: set.node, first: set.first, last: set.last, tree: extended.head,
                                  envelopeDigest: digest, receivedAt: UInt64(at))
            let receiptBytes = try receipt.signed(with: key).encoded
            try db.execute(sql: """
                INSERT INTO changeset(node, first, last, digest, envelope, receipt, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [set.node, Int64(set.first), Int64(set.last), digest.data, Data(envelope), Data(receiptBytes), at])
            try db.execute(sql: "UPDATE node SET log_size = ?, log_frontier = ?, pushes = pushes + 1, last_seen = ? WHERE id = ?",
                           arguments: [Int64(extended.size), Data(extended.encoded), at, set.node])
            return .receipt(receiptBytes, newlyMerged: merged)
        }
    }

    /// Merges one change into the provincial records.
    ///
    /// - The same key and content from anywhere is one record; each arrival is a route (its
    ///   `node_change` row).
    /// - Another version of a record from its origin node is a new version.
    /// - A different version from another node is a conflict: the later effective time wins, then
    ///   the later acceptance, then the smaller node id — the same winner whatever the arrival
    ///   order — and the conflict is listed for operators.
    /// - A correction or revocation is a new version; after a revocation nothing else applies.
    func merge(_ db: Database, change: Change, bytes: [UInt8], hubFrontier: inout MerkleFrontier, at: Int64) throws -> MergeEffect {
        let key = "\(change.key.provider)/\(change.key.item)/\(change.key.recordId)"
        let hash = change.payload.isEmpty ? Data() : Hash32.sha256(change.payload).data
        let current = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT status, version, content_hash, origin_node, origin_sequence, effective_at, accepted_at FROM record WHERE record_key = ?
            """), arguments: [key])

        var effect: MergeEffect = .effective
        if let current {
            let status: String = current["status"]
            let sameContent = (current["content_hash"] as Data) == hash
            if status == "revoked" {
                effect = change.operation == .revoke ? .duplicate : .superseded
            } else if change.operation == .revoke {
                effect = .effective
            } else if sameContent {
                effect = .duplicate
            } else if change.operation == .create, (current["origin_node"] as String) != change.node {
                let incoming = (Int64(change.effectiveAt), Int64(change.acceptedAt), change.node)
                let held = (current["effective_at"] as Int64, current["accepted_at"] as Int64, current["origin_node"] as String)
                let incomingWins = incoming.0 != held.0 ? incoming.0 > held.0 : (incoming.1 != held.1 ? incoming.1 > held.1 : incoming.2 < held.2)
                let (winner, loser) = incomingWins
                    ? ((change.node, Int64(change.sequence)), (held.2, current["origin_sequence"] as Int64))
                    : ((held.2, current["origin_sequence"] as Int64), (change.node, Int64(change.sequence)))
                try db.execute(sql: """
                    INSERT INTO conflict(record_key, winner_node, winner_sequence, loser_node, loser_sequence, detected_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [key, winner.0, winner.1, loser.0, loser.1, at])
                effect = incomingWins ? .effective : .superseded
            }
        }
        let insertChange = try db.cachedStatement(sql: """
            INSERT INTO node_change(node, sequence, record_key, operation, content_hash, change, hub_position) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        guard effect == .effective else {
            try insertChange.execute(arguments: [change.node, Int64(change.sequence), key, change.operation.name, hash, Data(bytes), nil])
            return effect
        }

        let leaf = MerkleHash.leaf(bytes)
        hubFrontier.append(leafHash: leaf)
        let position = Int64(hubFrontier.size)
        try insertChange.execute(arguments: [change.node, Int64(change.sequence), key, change.operation.name, hash, Data(bytes), position])
        try db.cachedStatement(sql: "INSERT INTO hub_log(position, node, sequence, record_key, received_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [position, change.node, Int64(change.sequence), key, at])
        let version = ((current?["version"] as Int64?) ?? 0) + 1
        let status = change.operation == .revoke ? "revoked" : "active"
        let subject = change.payload.isEmpty ? nil : SubjectExtract.from(change.payload)
        try db.cachedStatement(sql: """
            INSERT INTO record(record_key, provider, item, record_id, subject_key, status, version, content_hash, origin_node,
                               origin_sequence, effective_at, accepted_at, hub_position)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(record_key) DO UPDATE SET subject_key = CASE WHEN excluded.subject_key = '' THEN record.subject_key ELSE excluded.subject_key END,
                status = excluded.status, version = excluded.version, content_hash = excluded.content_hash,
                origin_node = excluded.origin_node, origin_sequence = excluded.origin_sequence, effective_at = excluded.effective_at,
                accepted_at = excluded.accepted_at, hub_position = excluded.hub_position
            """).execute(arguments: [key, change.key.provider, change.key.item, change.key.recordId, subject?.subject ?? "", status,
                                     version, hash, change.node, Int64(change.sequence), Int64(change.effectiveAt),
                                     Int64(change.acceptedAt), position])
        if let subject {
            if current != nil { try db.execute(sql: "DELETE FROM subject_index WHERE record_key = ?", arguments: [key]) }
            let index = try db.cachedStatement(sql: "INSERT OR IGNORE INTO subject_index(subject_key, record_key, role) VALUES (?, ?, ?)")
            try index.execute(arguments: [subject.subject, key, "subject"])
            for (person, role) in subject.persons { try index.execute(arguments: [person, key, role]) }
        }
        if change.operation.isCorrection {
            try db.cachedStatement(sql: """
                INSERT INTO correction(hub_position, record_key, operation, origin_node, origin_sequence, effective_at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [position, key, change.operation.name, change.node, Int64(change.sequence),
                                         Int64(change.effectiveAt), at])
        }
        return .effective
    }
}

/// The subject keys of a record payload: the subject's, and those of the Article 33 persons.
struct SubjectExtract {
    var subject: String
    var persons: [(String, String)]

    static func key(_ object: [String: JSONValue]) -> String {
        if let uscc = object["uscc"]?.stringValue { return "uscc:\(uscc)" }
        if let id = object["residentId"]?.stringValue { return "resident-id:\(id)" }
        if let d = object["document"]?.objectValue, let type = d["type"]?.stringValue, let number = d["number"]?.stringValue {
            return "document:\(type):\(number)"
        }
        return ""
    }

    static func from(_ payload: [UInt8]) -> SubjectExtract? {
        guard case let .object(record)? = try? JSONValue.parse(payload), let subject = record["subject"]?.objectValue else { return nil }
        var persons: [(String, String)] = []
        if case let .array(list)? = record["fields"]?.objectValue?["responsiblePersons"] {
            for case let .object(p) in list { persons.append((key(p), p["role"]?.stringValue ?? "")) }
        }
        return SubjectExtract(subject: key(subject), persons: persons)
    }
}
