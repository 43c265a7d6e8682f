import CreditCore
import Foundation
public import SyncProtocol

/// The hub's signed account of every record it holds about one credit subject (Article 38):
/// what a node's self-enquiry report carries so that the report can be checked later against
/// the platform of record (`Protocol/hub-api.md`, `GET /v1/nodes/{node}/subjects/{subject}`).
///
/// It lists each record filed under the subject's key (as the subject, or as an Article 33
/// person), with its status and, while active, the SHA-256 of its current content: a report
/// whose records have these hashes shows what the province holds, as of the hub log's size.
public struct SubjectAttestation: SignedJSONAnswer, Equatable {
    public struct Entry: Sendable, Equatable, Codable {
        /// `provider/item/recordId`.
        public var record: String
        public var role: String
        public var status: String
        public var version: Int
        /// Lowercase hex SHA-256 of the current content; absent for a revoked record.
        public var contentHash: String?
        /// The record's cases (`Protocol/rights.md`) as `id:state`.
        public var cases: [String]

        public init(record: String, role: String, status: String, version: Int, contentHash: String?, cases: [String]) {
            self.record = record
            self.role = role
            self.status = status
            self.version = version
            self.contentHash = contentHash
            self.cases = cases
        }
    }

    public var hub: String
    /// The node that asked, on behalf of the subject at its desk.
    public var node: String
    public var subject: String
    public var hubLogSize: UInt64
    /// Lowercase hex root of the hub log at that size.
    public var hubLogRoot: String
    /// Milliseconds since 1970.
    public var at: UInt64
    public var records: [Entry]

    public init(hub: String, node: String, subject: String, hubLogSize: UInt64, hubLogRoot: String, at: UInt64, records: [Entry]) {
        self.hub = hub
        self.node = node
        self.subject = subject
        self.hubLogSize = hubLogSize
        self.hubLogRoot = hubLogRoot
        self.at = at
        self.records = records
    }

    /// The envelope's payload type.
    public static let payloadType = "creditsync/subject-attestation/v1"

    /// Opens an attestation signed by an active key of `hub` about `subject`.
    public static func open(_ bytes: [UInt8], hub: String, keys: KeyRegistry, subject: String) throws -> SubjectAttestation {
        let attestation = try verified(bytes, hub: hub, keys: keys)
        guard attestation.subject == subject, attestation.hub == hub else {
            throw WireError.inconsistent("an attestation about \(attestation.subject) by \(attestation.hub) was answered for \(subject)")
        }
        return attestation
    }
}
