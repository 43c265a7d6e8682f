public import CreditCore
public import CreditData
public import Foundation
import Hummingbird
import SyncProtocol
public import SyncTransport
import Synchronization

/// The node's provider-facing logic, independent of HTTP: validation against the catalog,
/// authority checks, idempotent writes, reads with their audit trail.
public final class NodeService: Sendable {
    public let node: String
    public let store: NodeStore
    public let metrics: NodeMetrics
    public let limits: Limits
    let now: @Sendable () -> Date
    private let referenceData: Mutex<ReferenceData>
    /// Asks the hub for its signed account of a subject's records (a self-enquiry report's
    /// signature); `nil` when this node has no hub link (tests of the node alone).
    let attestation: (@Sendable (String) async throws -> (envelope: [UInt8], attestation: SubjectAttestation))?

    /// Request limits, documented in `Protocol/provider-api.openapi.json`.
    public struct Limits: Sendable {
        /// Largest request body (413 beyond it).
        public var maxBodyBytes: Int
        /// Most records in one batch or CSV file (413 beyond it).
        public var maxBatchRecords: Int
        /// Most request bodies read and handled at once (``BodyPermits``); more wait their turn.
        public var concurrentBodies: Int
        /// How long a body may take to arrive once let in (408 `too-slow` beyond): a client that
        /// trickles its body must not hold a permit for long. 60 s is 16 MiB at 280 KB/s. (One
        /// that stops altogether is closed sooner, silent for 30 s: `ServerLimits.idleTimeout`.)
        public var bodySeconds: Double
        /// How long a request waits for a permit before it is answered 503 `busy`: under the
        /// listener's 30 s idle timeout, which would close its connection without an answer.
        public var permitWaitSeconds: Double

        public init(maxBodyBytes: Int = 16 << 20, maxBatchRecords: Int = 5_000, concurrentBodies: Int = 4, bodySeconds: Double = 60,
                    permitWaitSeconds: Double = 20) {
            self.maxBodyBytes = maxBodyBytes
            self.maxBatchRecords = maxBatchRecords
            self.concurrentBodies = concurrentBodies
            self.bodySeconds = bodySeconds
            self.permitWaitSeconds = permitWaitSeconds
        }
    }

    /// The permits request bodies wait for (``Limits/concurrentBodies``).
    public let bodyPermits: BodyPermits

    public init(node: String, store: NodeStore, reference: ReferenceData, metrics: NodeMetrics = NodeMetrics(),
                limits: Limits = Limits(), now: @escaping @Sendable () -> Date = Date.init,
                attestation: (@Sendable (String) async throws -> (envelope: [UInt8], attestation: SubjectAttestation))? = nil) {
        self.attestation = attestation
        self.node = node
        self.store = store
        self.metrics = metrics
        self.limits = limits
        bodyPermits = BodyPermits(limits.concurrentBodies)
        self.now = now
        self.referenceData = Mutex(reference)
    }

    /// The reference data in force.
    public var reference: ReferenceData { referenceData.withLock { $0 } }

    /// Replaces the reference data (a new catalog or calendar year) without a restart.
    public func update(reference: ReferenceData) { referenceData.withLock { $0 = reference } }

    // MARK: - Writes

    /// The result of one record of a submission.
    public struct SubmitResult: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable { case accepted, duplicate, rejected }
        public var index: Int
        public var recordId: String?
        public var item: String?
        public var status: Status
        public var sequence: UInt64?
        public var version: Int?
        public var errors: [ValidationIssue]?
        public var warnings: [ValidationIssue]?

        /// The result as the provider API writes it (absent fields left out, as `Codable` does).
        public var jsonValue: JSONValue {
            var object: [String: JSONValue] = ["index": .number(String(index)), "status": .string(status.rawValue)]
            if let recordId { object["recordId"] = .string(recordId) }
            if let item { object["item"] = .string(item) }
            if let sequence { object["sequence"] = .number(String(sequence)) }
            if let version { object["version"] = .number(String(version)) }
            func issues(_ list: [ValidationIssue]) -> JSONValue {
                .array(list.map { .object(["field": .string($0.field), "code": .string($0.code), "message": .string($0.message)]) })
            }
            if let errors { object["errors"] = issues(errors) }
            if let warnings { object["warnings"] = issues(warnings) }
            return .object(object)
        }

        /// Appends ``jsonValue``'s serialization to `out`, byte for byte, without building it:
        /// a batch answers thousands of these, and the dictionaries cost more than the writing.
        public func writeJSON(into out: inout [UInt8]) {
            func key(_ name: String, first: Bool = false) {
                if !first { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: name.utf8)
                out.append(contentsOf: "\":".utf8)
            }
            func issues(_ list: [ValidationIssue]) {
                out.append(UInt8(ascii: "["))
                for (i, issue) in list.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: #"{"code":"#.utf8)
                    JSONValue.writeString(issue.code, into: &out)
                    out.append(contentsOf: #","field":"#.utf8)
                    JSONValue.writeString(issue.field, into: &out)
                    out.append(contentsOf: #","message":"#.utf8)
                    JSONValue.writeString(issue.message, into: &out)
                    out.append(UInt8(ascii: "}"))
                }
                out.append(UInt8(ascii: "]"))
            }
            // Keys in canonical (UTF-8 byte) order, as `jsonValue.serialized` has them.
            out.append(UInt8(ascii: "{"))
            if let errors {
                key("errors", first: true)
                issues(errors)
            }
            key("index", first: errors == nil)
            out.append(contentsOf: String(index).utf8)
            if let item {
                key("item")
                JSONValue.writeString(item, into: &out)
            }
            if let recordId {
                key("recordId")
                JSONValue.writeString(recordId, into: &out)
            }
            if let sequence {
                key("sequence")
                out.append(contentsOf: String(sequence).utf8)
            }
            key("status")
            JSONValue.writeString(status.rawValue, into: &out)
            if let version {
                key("version")
                out.append(contentsOf: String(version).utf8)
            }
            if let warnings {
                key("warnings")
                issues(warnings)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Validates and stores records (one transaction for the accepted ones). Each record gets its
    /// own result; a resubmission of an identical record is `duplicate` and logs nothing.
    public func submit(_ records: [JSONValue], by identity: ProviderIdentity, effectiveAt: Date? = nil) throws -> [SubmitResult] {
        var batch = try check(records, by: identity, effectiveAt: effectiveAt)
        settle(&batch, try store.write(batch.writes, node: node, credential: identity.credential, catalogVersion: batch.catalogVersion,
                                       acceptedAt: batch.acceptedAt))
        return batch.results
    }

    /// ``submit(_:by:effectiveAt:)`` for a server: while the batch waits for the store's single
    /// writer, its task is suspended rather than holding one of the few threads that parse and
    /// validate the batches behind it.
    public func accept(_ records: [JSONValue], by identity: ProviderIdentity, effectiveAt: Date? = nil) async throws -> [SubmitResult] {
        var batch = try check(records, by: identity, effectiveAt: effectiveAt)
        settle(&batch, try await store.write(batch.writes, node: node, credential: identity.credential,
                                             catalogVersion: batch.catalogVersion, acceptedAt: batch.acceptedAt))
        return batch.results
    }

    /// A batch between validation and the store: every record's result so far, and the writes of
    /// the valid ones with the index of the result each belongs to.
    struct CheckedBatch {
        var results: [SubmitResult] = []
        var writes: [PreparedWrite] = []
        var writeIndex: [Int] = []
        var catalogVersion: String
        var acceptedAt: UInt64
    }

    private func check(_ records: [JSONValue], by identity: ProviderIdentity, effectiveAt: Date?) throws -> CheckedBatch {
        try requireCaughtUp()
        guard records.count <= limits.maxBatchRecords else {
            throw NodeError(.contentTooLarge, "too-many-records", "a batch holds at most \(limits.maxBatchRecords) records, this one \(records.count)")
        }
        let at = now()
        let data = reference
        let validator = data.validator(today: ChinaTime.date(of: at))
        let effective = Self.millis(effectiveAt ?? at)
        // Validation and canonical encoding take most of a batch's time and each record is
        // independent: they run on every core. Each record's result is made there too, so that
        // its validation (which refers to the shared catalog) is let go on the core that made it.
        let checked = records.concurrentMap { json -> (result: SubmitResult, write: PreparedWrite?) in
            let v = validator.validate(json)
            let warnings = v.warnings.isEmpty ? nil : v.warnings
            guard let accepted = v.accepted else {
                return (SubmitResult(index: 0, recordId: v.recordId, item: v.item, status: .rejected, errors: v.issues, warnings: warnings), nil)
            }
            guard identity.mayWrite(accepted.item.code) else {
                let issue = ValidationIssue(field: "item", code: "forbidden-item",
                                            message: "credential \(identity.credential) may not write \(accepted.item.code) records")
                return (SubmitResult(index: 0, recordId: v.recordId, item: v.item, status: .rejected, errors: [issue]), nil)
            }
            return (SubmitResult(index: 0, recordId: accepted.record.recordId, item: accepted.item.code, status: .accepted, warnings: warnings),
                    PreparedWrite(accepted, provider: identity.unit, operation: .create, effectiveAt: effective))
        }
        var batch = CheckedBatch(catalogVersion: data.catalog.version, acceptedAt: Self.millis(at))
        batch.results.reserveCapacity(checked.count)
        batch.writes.reserveCapacity(checked.count)
        for (index, (result, write)) in checked.enumerated() {
            var result = result
            result.index = index
            if let write {
                batch.writes.append(write)
                batch.writeIndex.append(index)
            } else {
                metrics.rejected(reasons: result.errors?.map(\.code) ?? [])
            }
            batch.results.append(result)
        }
        return batch
    }

    /// Completes the results of `batch` with what the store made of its writes.
    private func settle(_ batch: inout CheckedBatch, _ outcomes: [WriteOutcome]) {
        for (j, (i, outcome)) in zip(batch.writeIndex, outcomes).enumerated() {
            switch outcome {
            case let .accepted(sequence, version):
                batch.results[i].sequence = sequence
                batch.results[i].version = version
                if let warning = Self.futureWarning(batch.writes[j].effectiveAt, acceptedAt: batch.acceptedAt) {
                    batch.results[i].warnings = (batch.results[i].warnings ?? []) + [warning]
                }
                metrics.accepted()
            case let .duplicate(sequence, version):
                batch.results[i].status = .duplicate
                batch.results[i].sequence = sequence
                batch.results[i].version = version
            case let .notHome(home):
                batch.results[i].status = .rejected
                batch.results[i].errors = [ValidationIssue(field: "recordId", code: "not-home",
                                                           message: "record \(batch.results[i].recordId ?? "") is kept by node \(home); write it there")]
                metrics.rejected(reasons: ["not-home"])
            case .unchanged:
                batch.results[i].status = .rejected
                batch.results[i].errors = [ValidationIssue(field: "record", code: "unchanged", message: Self.unchanged(batch.results[i].recordId ?? ""))]
                metrics.rejected(reasons: ["unchanged"])
            case .revoked, .notFound:
                batch.results[i].status = .rejected
                batch.results[i].errors = [ValidationIssue(field: "recordId", code: "revoked",
                                                           message: "record \(batch.results[i].recordId ?? "") was revoked; a revocation is final")]
                metrics.rejected(reasons: ["revoked"])
            }
        }
    }

    /// Corrects a record (Article 41): a new version with its reason and decision document.
    public func correct(item: String, recordId: String, record: JSONValue, reason: String, decisionDocument: String,
                        effectiveAt: Date?, by identity: ProviderIdentity) throws -> SubmitResult {
        try requireReason(reason, decisionDocument, recordId: recordId)
        let at = now()
        let data = reference
        let v = data.validator(today: ChinaTime.date(of: at)).validate(record)
        guard let accepted = v.accepted else {
            throw NodeError(.unprocessableContent, "invalid-record", "the corrected record \(recordId) is invalid", recordId: recordId, errors: v.issues)
        }
        guard accepted.item.code == item, accepted.record.recordId == recordId else {
            throw NodeError(.badRequest, "key-mismatch", "the corrected record must keep item \(item) and recordId \(recordId)", recordId: recordId)
        }
        guard identity.mayWrite(item) else { throw NodeError.forbidden("credential \(identity.credential) may not write \(item) records") }
        var write = PreparedWrite(accepted, provider: identity.unit, operation: .correct, effectiveAt: Self.millis(effectiveAt ?? at))
        write.reason = reason
        write.decisionDocument = decisionDocument
        return try single(write, identity: identity, data: data, at: at, recordId: recordId, item: item)
    }

    /// Revokes a record (Article 41): recorded as a change with its reason; nothing is deleted.
    public func revoke(item: String, recordId: String, reason: String, decisionDocument: String, effectiveAt: Date?,
                       by identity: ProviderIdentity) throws -> SubmitResult {
        try requireReason(reason, decisionDocument, recordId: recordId)
        guard identity.mayWrite(item) else { throw NodeError.forbidden("credential \(identity.credential) may not write \(item) records") }
        let key = RecordKey(provider: identity.unit, item: item, recordId: recordId)
        guard let current = try store.record(key) else {
            throw NodeError(.notFound, "not-found", "no record \(recordId) of \(item) provided by \(identity.unit)", recordId: recordId)
        }
        let at = now()
        let write = PreparedWrite(key: key, operation: .revoke, payload: [], subjectKey: current.subjectKey, subjectName: current.subjectName,
                                  recordClass: current.recordClass ?? "", reason: reason, decisionDocument: decisionDocument,
                                  effectiveAt: Self.millis(effectiveAt ?? at))
        return try single(write, identity: identity, data: reference, at: at, recordId: recordId, item: item)
    }

    /// A store restored from a backup takes no writes until it has caught up with the hub.
    func requireCaughtUp() throws {
        if try store.isRestorePending() {
            throw NodeError(.serviceUnavailable, "restoring",
                            "this node was restored from a backup and is catching up with the hub; try again shortly")
        }
    }

    private func single(_ write: PreparedWrite, identity: ProviderIdentity, data: ReferenceData, at: Date, recordId: String,
                        item: String) throws -> SubmitResult {
        try requireCaughtUp()
        let outcome = try store.write([write], node: node, credential: identity.credential, catalogVersion: data.catalog.version,
                                      acceptedAt: Self.millis(at))[0]
        switch outcome {
        case let .accepted(sequence, version):
            metrics.accepted()
            var result = SubmitResult(index: 0, recordId: recordId, item: item, status: .accepted, sequence: sequence, version: version)
            result.warnings = Self.futureWarning(write.effectiveAt, acceptedAt: Self.millis(at)).map { [$0] }
            return result
        case let .duplicate(sequence, version):
            return SubmitResult(index: 0, recordId: recordId, item: item, status: .duplicate, sequence: sequence, version: version)
        case .notFound:
            throw NodeError(.notFound, "not-found", "no record \(recordId) of \(item) provided by \(identity.unit)", recordId: recordId)
        case .revoked:
            throw NodeError(.conflict, "revoked", "record \(recordId) was revoked; a revocation is final", recordId: recordId)
        case let .notHome(home):
            throw NodeError(.conflict, "not-home", "record \(recordId) is kept by node \(home); only that node changes it", recordId: recordId)
        case .unchanged:
            throw NodeError(.conflict, "unchanged", Self.unchanged(recordId), recordId: recordId)
        }
    }

    /// Why a correction that changes nothing is refused.
    static func unchanged(_ recordId: String) -> String {
        "record \(recordId) already holds this content: a correction must change the record (a new reason or document alone is no correction)"
    }

    private func requireReason(_ reason: String, _ document: String, recordId: String) throws {
        var issues: [ValidationIssue] = []
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            issues.append(ValidationIssue(field: "reason", code: "required", message: "a correction or revocation needs its reason (Article 41)"))
        }
        if document.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            issues.append(ValidationIssue(field: "decisionDocument", code: "required",
                                          message: "a correction or revocation needs the decision document behind it (Article 41)"))
        }
        if !issues.isEmpty {
            throw NodeError(.unprocessableContent, "invalid-request", "the request for \(recordId) is incomplete", recordId: recordId, errors: issues)
        }
    }

    /// `effective-in-future` for a write that takes effect more than a minute after it was
    /// accepted: taken as given, but a date in the future is more often a typo than a plan.
    static func futureWarning(_ effectiveAt: UInt64, acceptedAt: UInt64) -> ValidationIssue? {
        guard effectiveAt > acceptedAt + 60_000 else { return nil }
        let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(effectiveAt) / 1000))
        return ValidationIssue(field: "effectiveAt", code: "effective-in-future",
                               message: "effective at \(when), after now: every node applies it now, and windows that count from it (Article 41's, for a correction) start then")
    }

    static func millis(_ date: Date) -> UInt64 { UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded())) }

    // MARK: - Reads

    /// The provider a bearer token belongs to, `nil` for an unknown or revoked one.
    public func authenticate(token: String) throws -> ProviderIdentity? {
        try store.authenticate(token: token)
    }

    /// Whether the store answers: what `/readyz` reports.
    public var isReady: Bool { (try? store.logHead()) != nil }

    /// The metrics exposition, refreshed from the store: what a scrape reads.
    public func metricsExposition() throws -> String {
        try metrics.refresh(from: store, node: node, calendar: reference.calendar, nowMillis: Self.millis(now()))
        return metrics.exposition()
    }

    /// A record with its history; the enquiry is audited.
    public func read(provider: String, item: String, recordId: String, purpose: String, by identity: ProviderIdentity) throws -> RecordDetail {
        try requirePurpose(purpose)
        let provider = providerCode(provider)
        guard identity.readScope.allows(item: item, provider: provider, unit: identity.unit) else {
            throw NodeError.forbidden("credential \(identity.credential) may not read \(item) records of \(provider)")
        }
        let key = RecordKey(provider: provider, item: item, recordId: recordId)
        let detail = try store.record(key)
        try store.audit(AuditEntry(at: now(), credential: identity.credential, unit: identity.unit, action: "read-record",
                                   target: key.storageKey, purpose: purpose, recordCount: detail == nil ? 0 : 1))
        guard let detail else { throw NodeError(.notFound, "not-found", "no record \(key.storageKey)", recordId: recordId) }
        return detail
    }

    /// A subject's records that the credential may read, under the subject key as normalized
    /// (``subjectKey(_:)``); the enquiry is audited.
    public func list(subject: String, purpose: String, by identity: ProviderIdentity) throws -> (subject: String, records: [RecordSummary]) {
        try requirePurpose(purpose)
        guard identity.readScope != .none else { throw NodeError.forbidden("credential \(identity.credential) may not read records") }
        let subject = try subjectKey(subject)
        let records = try store.records(subject: subject).filter {
            identity.readScope.allows(item: $0.item, provider: $0.provider, unit: identity.unit)
        }
        try store.audit(AuditEntry(at: now(), credential: identity.credential, unit: identity.unit, action: "list-subject",
                                   target: subject, purpose: purpose, recordCount: records.count))
        return (subject, records)
    }

    private func requirePurpose(_ purpose: String) throws {
        guard !purpose.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw NodeError.badRequest("say why you are asking: the 'purpose' query parameter is required and audited (Article 21)")
        }
    }
}

extension NodeService {
    /// `text` as the subject key records are filed under (identifiers.md): a lower-case check
    /// character or a 15-digit identity number names the same subject as its normalized form.
    /// - Throws: 400 `bad-request` when it is not a subject key at all.
    public func subjectKey(_ text: String) throws -> String {
        do { return try SubjectKey.normalize(text, context: reference.identifierContext(today: ChinaTime.date(of: now()))) } catch {
            throw NodeError.badRequest(error.description)
        }
    }

    /// A providing unit's credit code as a client typed it (a lower-case letter, spaces),
    /// normalized as identifiers.md asks, so that it names the records filed under the code;
    /// text that is no code stays as typed, for the lookup to answer that nothing has it.
    func providerCode(_ text: String) -> String {
        (try? UnifiedSocialCreditCode.parse(text, acceptedLegacyCodes: reference.legacyCreditCodes).value) ?? text
    }
}
