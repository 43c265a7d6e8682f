import CreditCore
public import Foundation
public import SyncProtocol
import SyncTransport

/// A credit subject's self-enquiry report (Article 38): every record this node holds about the
/// subject — as the subject, or as an Article 33 person — with its sources, every version and
/// its reason, its objection label and display; and the hub's signed account of what the
/// province holds, compared record by record, so that the report can be checked later.
public struct CreditReport: Sendable, Codable {
    /// One record of the report.
    public struct Entry: Sendable, Codable {
        /// `subject`, or the Article 33 role under which the subject is named.
        public var role: String
        public var record: RecordDetail
        /// Whether the hub's account lists the record with the same status and content.
        public var matchesHub: Bool?
    }

    /// The hub's signed account as the report carries it.
    public struct HubSignature: Sendable, Codable {
        /// The envelope (`Protocol/sync.md` §3) exactly as the hub signed it, base64.
        public var envelope: String
        public var hub: String
        public var keyId: String
        public var hubLogSize: UInt64
        public var hubLogRoot: String
        public var signedAt: Date
        public var records: Int
    }

    /// How the node's records compare with the hub's account.
    public struct Verification: Sendable, Codable {
        /// `verified` (the same records, statuses and contents), `differs`, or `unavailable`
        /// (the hub could not be asked: the report is the node's alone).
        public var status: String
        /// Records the hub holds that have not reached this node yet.
        public var missingHere: [String]
        /// Records this node holds that the hub does not list (not pushed yet).
        public var notAtHub: [String]
        /// Records whose status or content differ.
        public var differing: [String]
        public var note: String
    }

    public var subject: String
    public var subjectName: String?
    public var node: String
    public var generatedAt: Date
    public var records: [Entry]
    public var hubSignature: HubSignature?
    public var verification: Verification
}

extension NodeService {
    /// A subject's free self-enquiry (Article 38), answered at this node for the whole province:
    /// the records this node holds under the subject's key, and the hub's signed account of the
    /// same key. The enquiry is audited; the credential must read every record (`all`).
    public func selfEnquiry(subject: String, by identity: ProviderIdentity) async throws -> CreditReport {
        guard identity.readScope == .all else {
            throw NodeError.forbidden("a self-enquiry covers every provider's records: credential \(identity.credential) reads only \(identity.readScope)")
        }
        let subject = try subjectKey(subject)
        let summaries = try store.records(subject: subject)
        var entries: [CreditReport.Entry] = []
        for summary in summaries {
            guard let detail = try store.record(RecordKey(provider: summary.provider, item: summary.item, recordId: summary.recordId)) else { continue }
            entries.append(CreditReport.Entry(role: summary.role, record: detail, matchesHub: nil))
        }
        var signature: CreditReport.HubSignature?
        var verification = CreditReport.Verification(status: "unavailable", missingHere: [], notAtHub: [], differing: [],
                                                     note: "this node has no link to the hub")
        if let attestation {
            do {
                // A subject waits at the desk: an unreachable hub costs seconds, not the transport's minute.
                let (envelope, account) = try await Self.within(.seconds(Self.attestationTimeoutSeconds)) { try await attestation(subject) }
                signature = CreditReport.HubSignature(envelope: Data(envelope).base64EncodedString(), hub: account.hub,
                                                      keyId: (try? Envelope(decoding: envelope))?.signatures.first?.keyId ?? "",
                                                      hubLogSize: account.hubLogSize, hubLogRoot: account.hubLogRoot,
                                                      signedAt: Date(timeIntervalSince1970: Double(account.at) / 1000), records: account.records.count)
                verification = Self.compare(&entries, with: account)
            } catch {
                verification.note = "the hub could not be asked (\(error)); this report is the node's alone"
            }
        }
        try store.audit(AuditEntry(at: now(), credential: identity.credential, unit: identity.unit, action: "self-enquiry",
                                   target: subject, purpose: "Article 38 self-enquiry", recordCount: entries.count))
        return CreditReport(subject: subject, subjectName: entries.first { $0.role == "subject" }?.record.subjectName, node: node,
                            generatedAt: now(), records: entries, hubSignature: signature, verification: verification)
    }

    /// How long a self-enquiry waits for the hub's account before it answers without it.
    static let attestationTimeoutSeconds = 5

    struct Timeout: Error, CustomStringConvertible {
        var description: String { "no answer within \(NodeService.attestationTimeoutSeconds) s" }
    }

    /// The result of `work`, or ``Timeout`` once `limit` has passed (the work is cancelled).
    static func within<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Timeout() }
            return value
        }
    }

    /// Compares the node's records with the hub's account, marking each entry.
    ///
    /// An entry matches when its status is the hub's, its record's canonical JSON (records.md)
    /// hashes to the content hash the hub signed, and its cases are the hub's (`id:state`). The
    /// content is hashed here, not taken from the entry's own `contentHash`: a report is checked
    /// again later, away from the node, and an edited record must not pass with its old hash.
    static func compare(_ entries: inout [CreditReport.Entry], with account: SubjectAttestation) -> CreditReport.Verification {
        func key(_ d: RecordDetail) -> String { "\(d.provider)/\(d.item)/\(d.recordId)" }
        var atHub: [String: SubjectAttestation.Entry] = [:]
        for e in account.records { atHub["\(e.record)\t\(e.role)"] = e }
        var differing: [String] = [], notAtHub: [String] = []
        for i in entries.indices {
            let d = entries[i].record
            guard let hub = atHub.removeValue(forKey: "\(key(d))\t\(entries[i].role)") else {
                notAtHub.append(key(d))
                continue
            }
            let content = d.status == "revoked" || (hub.contentHash == Hash32.sha256(d.record.serializedBytes).hex && hub.contentHash == d.contentHash)
            let cases = d.rights.cases.map { "\($0.id):\($0.state.rawValue)" }.sorted() == hub.cases.sorted()
            let same = hub.status == d.status && content && cases
            entries[i].matchesHub = same
            if !same { differing.append(key(d)) }
        }
        let missing = Set(atHub.values.map(\.record)).sorted()
        let verified = differing.isEmpty && notAtHub.isEmpty && missing.isEmpty
        return CreditReport.Verification(
            status: verified ? "verified" : "differs", missingHere: missing, notAtHub: Array(Set(notAtHub)).sorted(), differing: Array(Set(differing)).sorted(),
            note: verified ? "every record matches the hub's signed account at hub log size \(account.hubLogSize)"
                : "the node and the hub differ: a record still on its way, or one to report to the hub's operators")
    }
}

extension CreditReport {
    /// Reads a report as the provider API writes it (RFC 3339 dates).
    public static func read(_ data: Data) throws -> CreditReport {
        // A report is checked away from the node: one with a key twice is refused, not read
        // as whichever of the two Foundation keeps (Protocol/README.md, Conventions).
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try JSONValue.decode(CreditReport.self, from: Array(data), decoder: decoder)
    }

    /// Checks a report later, away from the node: the hub's signature over its account, with
    /// the hub's public keys, and the report's records against that account.
    /// - Throws: when the report carries no signature, or the signature does not verify.
    public func verify(hubKeys: KeyRegistry) throws -> Verification {
        guard let signature = hubSignature, let envelope = Data(base64Encoded: signature.envelope) else {
            throw WireError.signature("the report carries no hub signature")
        }
        let account = try SubjectAttestation.open(Array(envelope), hub: signature.hub, keys: hubKeys, subject: subject)
        var entries = records
        var verification = NodeService.compare(&entries, with: account)
        // Checked later, a difference is the report's own: altered after it was made, or made
        // by a node that differed from the hub (then its own verification said so).
        verification.note = verification.status == "verified"
            ? "every record's status, content and cases match the hub's signed account at hub log size \(account.hubLogSize) "
              + "(the history, labels and display shown are the node's, which the account does not cover)"
            : "the report does not match the hub's signed account: altered after it was made, or made while its node differed from the hub "
              + "(its verification at the time says which)"
        return verification
    }
}

