/// What a change does to a record (`Protocol/sync.md` §2).
public enum ChangeOperation: UInt8, Sendable, CaseIterable, Codable {
    case create = 1
    case correct = 2
    case revoke = 3
    /// Article 39: an objection label put up on a record.
    case objectionLabel = 4
    /// Article 39: the outcome of an objection.
    case objectionOutcome = 5
    /// Article 40: credit restored, display withdrawn.
    case restoration = 6
    /// Article 34: removal from a list of seriously untrustworthy entities.
    case listRemoval = 7

    /// The lowercase name used in JSON and logs.
    public var name: String {
        switch self {
        case .create: "create"
        case .correct: "correct"
        case .revoke: "revoke"
        case .objectionLabel: "objection-label"
        case .objectionOutcome: "objection-outcome"
        case .restoration: "restoration"
        case .listRemoval: "list-removal"
        }
    }

    /// Whether the change corrects or revokes a record: Article 41's windows apply and a reason
    /// and decision document are required.
    public var isCorrection: Bool { self == .correct || self == .revoke }

    /// Whether the change is a credit subject's right exercised on a record (operations 4–7,
    /// `Protocol/rights.md`): it carries a rights document, never a new version of the record.
    public var isRights: Bool { rawValue >= 4 }
}

/// A record's global key: the providing unit, the catalog item and the provider's own id.
/// Unique across the province, so the same record reaching the hub through two nodes is one record.
public struct RecordKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public var provider: String
    public var item: String
    public var recordId: String

    public init(provider: String, item: String, recordId: String) {
        self.provider = provider
        self.item = item
        self.recordId = recordId
    }

    public var description: String { "\(provider)/\(item)/\(recordId)" }
}

/// One write a node accepted, as it is logged, signed, pushed, merged and fanned out.
///
/// A decoded change keeps the exact bytes it was decoded from in ``encoded``: those bytes are
/// what the log hashes and what travels onward, so nothing is ever re-serialized.
public struct Change: Sendable, Hashable {
    public var node: String
    public var sequence: UInt64
    public var key: RecordKey
    public var operation: ChangeOperation
    public var credential: String
    /// Why a record was corrected or revoked; empty when none.
    public var reason: String
    /// The decision document behind a correction or revocation; empty when none.
    public var decisionDocument: String
    /// When the provider says the change took effect (milliseconds since 1970, UTC).
    public var effectiveAt: UInt64
    /// When the node accepted it (milliseconds since 1970, UTC).
    public var acceptedAt: UInt64
    public var catalogVersion: String
    /// The record as validated, UTF-8 JSON.
    public var payload: [UInt8]

    /// Field bounds of §2.
    public enum Limits {
        public static let node = 16, provider = 32, item = 64, recordId = 512, credential = 128
        public static let reason = 4096, decisionDocument = 1024, catalogVersion = 256, payload = 262_144
        /// The largest encoded change.
        public static let encoded = 1 << 20
    }

    public init(node: String, sequence: UInt64, key: RecordKey, operation: ChangeOperation, credential: String,
                reason: String = "", decisionDocument: String = "", effectiveAt: UInt64, acceptedAt: UInt64,
                catalogVersion: String, payload: [UInt8]) {
        self.node = node
        self.sequence = sequence
        self.key = key
        self.operation = operation
        self.credential = credential
        self.reason = reason
        self.decisionDocument = decisionDocument
        self.effectiveAt = effectiveAt
        self.acceptedAt = acceptedAt
        self.catalogVersion = catalogVersion
        self.payload = payload
    }

    /// The version-1 encoding.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: 160 + payload.count + reason.utf8.count)
        w.u8(1)
        w.string(node)
        w.uvarint(sequence)
        w.string(key.provider)
        w.string(key.item)
        w.string(key.recordId)
        w.u8(operation.rawValue)
        w.string(credential)
        w.string(reason)
        w.string(decisionDocument)
        w.uvarint(effectiveAt)
        w.uvarint(acceptedAt)
        w.string(catalogVersion)
        w.lengthPrefixed(payload)
        return w.bytes
    }

    /// The RFC 9162 leaf hash of the encoding.
    public var leafHash: Hash32 { MerkleHash.leaf(encoded) }

    /// Decodes one change that must span all of `bytes`.
    /// - Throws: ``WireError``.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= Limits.encoded else { throw .oversized(field: "change", limit: Limits.encoded) }
        var r = ByteReader(bytes)
        let version = try r.u8("change.version")
        guard version == 1 else { throw .version(field: "change", found: Int(version)) }
        node = try r.string("change.node", limit: Limits.node)
        sequence = try r.integer("change.sequence")
        key = RecordKey(provider: try r.string("change.provider", limit: Limits.provider),
                        item: try r.string("change.item", limit: Limits.item),
                        recordId: try r.string("change.recordId", limit: Limits.recordId))
        let op = try r.u8("change.operation")
        guard let operation = ChangeOperation(rawValue: op) else { throw .operation(Int(op)) }
        self.operation = operation
        credential = try r.string("change.credential", limit: Limits.credential)
        reason = try r.string("change.reason", limit: Limits.reason)
        decisionDocument = try r.string("change.decisionDocument", limit: Limits.decisionDocument)
        effectiveAt = try r.integer("change.effectiveAt")
        acceptedAt = try r.integer("change.acceptedAt")
        catalogVersion = try r.string("change.catalogVersion", limit: Limits.catalogVersion)
        payload = try r.lengthPrefixed("change.payload", limit: Limits.payload)
        try r.finish()
        if operation.isCorrection, reason.isEmpty || decisionDocument.isEmpty { throw .missingReason(sequence: sequence) }
    }
}
