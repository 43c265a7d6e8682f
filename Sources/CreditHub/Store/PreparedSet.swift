public import CreditCore
public import Foundation
public import SyncProtocol

/// A verified change set made ready for the store.
///
/// Everything the merge needs that takes CPU but not the database — the envelope's digest, the
/// leaf hashes (the same for the node's log and the hub's), record keys, content hashes, and
/// the subjects of Articles 19 and 33 — is computed here, before the store's single writer is
/// taken. Sets from different nodes are then prepared on every core while one is written, and
/// the write transaction does nothing but read and write rows.
public struct PreparedSet: Sendable {
    /// A change with what the merge derives from it.
    public struct Entry: Sendable {
        public var change: Change
        public var bytes: [UInt8]
        /// `provider/item/recordId`.
        public var recordKey: String
        /// SHA-256 of the payload; empty for a revocation, which has none.
        public var contentHash: Data
        /// The leaf hash of the change's bytes.
        public var leaf: Hash32
        public var subject: SubjectExtract?
        /// Why the change may not be merged (``ChangeValidator``), found while preparing.
        public var refusal: ChangeRefusal?
        /// The rights document of a valid change of operation 4–7 (`Protocol/rights.md`).
        public var rights: RightsEvent?
    }

    public let set: ChangeSet
    public let envelope: [UInt8]
    public let digest: Hash32
    public let entries: [Entry]
    /// The checks the set was prepared with: the merge asks it about records a rights change
    /// names (their class and display window).
    public let validator: ChangeValidator?

    /// Prepares a set whose signature has been verified, checking each change with `validator`
    /// (`nil` takes every change as valid: for tests of the merge alone, never for a daemon).
    public init(_ set: ChangeSet, envelope: [UInt8], validator: ChangeValidator?) {
        self.set = set
        self.envelope = envelope
        digest = Hash32.sha256(envelope)
        self.validator = validator
        entries = zip(set.changes, set.encodedChanges).map { change, bytes in
            let checked = validator?.check(change)
            var refusal = checked?.refusal
            var rights: RightsEvent?
            if change.operation.isRights, refusal == nil {
                rights = validator?.rightsEvent(change)
                if rights == nil {
                    refusal = ChangeRefusal(change, code: "invalid-rights", field: "payload", message: "no catalog to check a rights change against")
                }
            }
            return Entry(change: change, bytes: bytes, recordKey: change.key.description,
                         contentHash: change.payload.isEmpty ? Data() : Hash32.sha256(change.payload).data,
                         leaf: MerkleHash.leaf(bytes),
                         subject: change.payload.isEmpty || refusal != nil || change.operation.isRights ? nil
                            : checked?.record.map { SubjectExtract($0.record.subject, persons: $0.responsiblePersons) }
                                ?? SubjectExtract.from(change.payload),
                         refusal: refusal, rights: rights)
        }
    }

    var leaves: [Hash32] { entries.map(\.leaf) }
}

/// The subject keys of a record: the subject's, and those of the Article 33 persons, each
/// ``Subject/key`` as every node files them.
public struct SubjectExtract: Sendable, Equatable {
    public var subject: String
    /// Each person's key and role.
    public var persons: [Person]

    public struct Person: Sendable, Equatable {
        public var key: String
        public var role: String
    }

    public init(subject: String, persons: [Person]) {
        self.subject = subject
        self.persons = persons
    }

    /// The keys of a record's subject and persons.
    public init(_ subject: Subject, persons: [ResponsiblePerson]) {
        self.init(subject: subject.key, persons: persons.map { Person(key: $0.key, role: $0.role.rawValue) })
    }

    /// The keys of a payload, or `nil` when it is not a record with a subject. For a set
    /// prepared without a validator (tests of the merge alone); a daemon's hub takes the keys
    /// from the record its validation accepted.
    public static func from(_ payload: [UInt8]) -> SubjectExtract? {
        guard let json = try? JSONValue.parse(payload), let record = CreditRecord(accepted: json) else { return nil }
        return SubjectExtract(record.subject, persons: record.acceptedPersons)
    }
}
