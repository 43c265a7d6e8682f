import CreditCore
import Foundation
public import SyncProtocol
import Hummingbird

extension NodeService {
    /// What a rights request answers at once: the case, the change that carries the request, and
    /// `pending` until the hub's fan-out brings the change back decided (`Protocol/rights.md` §4).
    public struct RightsReceipt: Sendable, Codable, Equatable {
        public var caseId: String
        public var sequence: UInt64
        public var status: String

        enum CodingKeys: String, CodingKey {
            case caseId = "case", sequence, status
        }
    }

    /// A case as this node knows it, with the record's labels and display.
    public struct CaseDetail: Sendable, Codable {
        public var rightsCase: RightsCase
        /// Whether the case is only known from this node's changes the hub has not returned yet.
        public var pending: Bool
        public var record: RecordRights

        enum CodingKeys: String, CodingKey {
            case rightsCase = "case", pending, record
        }
    }

    /// Files a credit subject's objection (Article 39) to a record held anywhere in the province;
    /// any clerk of this node may take it. The label reaches every node through the hub.
    public func fileObjection(provider: String, item: String, recordId: String, applicant: String, grounds: String,
                              by identity: ProviderIdentity) throws -> RightsReceipt {
        try submitRights(RightsEvent(kind: .filed, applicant: applicant.trimmingWhitespace(), grounds: grounds.trimmingWhitespace()),
                         key: RecordKey(provider: providerCode(provider), item: item, recordId: recordId), by: identity)
    }

    /// Files a credit subject's application for credit restoration (Article 40).
    public func applyForRestoration(provider: String, item: String, recordId: String, applicant: String, statement: String,
                                    by identity: ProviderIdentity) throws -> RightsReceipt {
        try submitRights(RightsEvent(kind: .applied, applicant: applicant.trimmingWhitespace(), statement: statement.trimmingWhitespace()),
                         key: RecordKey(provider: providerCode(provider), item: item, recordId: recordId), by: identity)
    }

    /// Removes one of the credential's unit's records from the list of seriously untrustworthy
    /// entities (Article 34), with the reason and decision document.
    public func removeFromList(item: String, recordId: String, reason: String, decisionDocument: String,
                               by identity: ProviderIdentity) throws -> RightsReceipt {
        try submitRights(RightsEvent(kind: .removed), key: RecordKey(provider: identity.unit, item: item, recordId: recordId),
                         reason: reason, decisionDocument: decisionDocument, by: identity)
    }

    /// A later step of a case: `checks`, `checked`, `paused`, `resumed`, `upheld`, `rejected`,
    /// `granted` or `refused` (`Protocol/rights.md` §2). A `checked` answers for the credential's
    /// unit; every other step is for the record's providing unit, at the record's home.
    public func caseEvent(_ caseId: String, event name: String, units: [String]? = nil, finding: String? = nil, cause: String? = nil,
                          reason: String = "", decisionDocument: String = "", by identity: ProviderIdentity) throws -> RightsReceipt {
        guard let kind = RightsEvent.Kind(rawValue: name), !kind.opensCase else {
            throw NodeError(.unprocessableContent, "invalid-rights", "'event' must be one of checks, checked, paused, resumed, upheld, rejected, granted, refused",
                            errors: [ValidationIssue(field: "event", code: "invalid-rights", message: "unknown step '\(name)'")])
        }
        // Only `checks` carries units; dropping them from another step would hide a client's mistake.
        if kind != .checks, units != nil {
            let message = "a '\(name)' step lists no units; only 'checks' names the units asked to check"
            throw NodeError(.unprocessableContent, "invalid-rights", message, errors: [ValidationIssue(field: "units", code: "invalid-rights", message: message)])
        }
        guard let known = try store.rightsCase(caseId) else {
            throw NodeError(.notFound, "unknown-case", "this node has not heard of case \(caseId) (a case opened elsewhere arrives with the hub's fan-out)")
        }
        let parts = known.recordKey.split(separator: "/", maxSplits: 2).map(String.init)
        let key = RecordKey(provider: parts[0], item: parts[1], recordId: parts[2])
        // Codes as a clerk types them (a lower-case letter, spaces) are normalized (identifiers.md);
        // one that is not a code stays as typed, for the check below to refuse naming it.
        let units = (units ?? []).map(providerCode)
        var event = RightsEvent(kind: kind, caseId: caseId, units: units, finding: finding?.trimmingWhitespace(), cause: cause)
        if kind == .checked { event.unit = identity.unit }
        return try submitRights(event, key: key, reason: reason, decisionDocument: decisionDocument, by: identity)
    }

    /// A case with its record's labels; reading it is audited like a record read. A case names
    /// its applicant and grounds, so only a credential that may read its record (its read scope)
    /// or whose unit is asked to check it reads it; case ids are guessable.
    public func rightsCase(_ id: String, by identity: ProviderIdentity) throws -> CaseDetail {
        guard identity.readScope != .none else { throw NodeError.forbidden("credential \(identity.credential) may not read records or their cases") }
        guard let found = try store.rightsCase(id) else { throw NodeError(.notFound, "unknown-case", "this node has not heard of case \(id)") }
        let parts = found.recordKey.split(separator: "/", maxSplits: 2).map(String.init)
        let mayRead = parts.count == 3 && identity.readScope.allows(item: parts[1], provider: parts[0], unit: identity.unit)
            || found.rightsCase.checkUnits.contains(identity.unit)
        guard try mayRead || filedHere(found.rightsCase, byUnitOf: identity) else {
            throw NodeError.forbidden("credential \(identity.credential) may not read record \(found.recordKey), nor did its unit file "
                                      + "case \(id) here, nor is it asked to check it")
        }
        try store.audit(AuditEntry(at: now(), credential: identity.credential, unit: identity.unit, action: "read-case",
                                   target: id, purpose: "case", recordCount: 1))
        return CaseDetail(rightsCase: found.rightsCase, pending: found.pending, record: try store.rights(recordKey: found.recordKey))
    }

    /// Whether a credential of `identity`'s unit filed `rightsCase` at this node: the desk that
    /// took a subject's application reads the case it opened, whatever its read scope.
    private func filedHere(_ rightsCase: RightsCase, byUnitOf identity: ProviderIdentity) throws -> Bool {
        guard let opening = rightsCase.steps.first, opening.node == node,
              let bytes = try store.changes(after: opening.sequence - 1, limit: 1, maxBytes: .max).first,
              let change = try? Change(decoding: bytes), change.sequence == opening.sequence else { return false }
        if change.credential == identity.credential { return true }
        return try store.credentials().contains { $0.id == change.credential && $0.unit == identity.unit }
    }

    /// Checks and logs one rights change. The document is read back with the protocol's own
    /// reader, so the desk refuses exactly what the hub would (`invalid-rights`, with the
    /// member); then the store checks it against the record and its cases in the transaction
    /// that logs it.
    private func submitRights(_ event: RightsEvent, key: RecordKey, reason: String = "", decisionDocument: String = "",
                              by identity: ProviderIdentity) throws -> RightsReceipt {
        try requireCaughtUp()
        if event.kind.homeOnly, identity.unit != key.provider || !identity.mayWrite(key.item) {
            throw NodeError.forbidden("only the providing unit \(key.provider) may \(event.kind.act) on its record \(key.recordId)")
        }
        let at = now()
        let data = reference
        let accepted = Self.millis(at)
        let draft = Change(node: node, sequence: 1, key: key, operation: event.kind.operation, credential: identity.credential,
                           reason: reason.trimmingWhitespace(), decisionDocument: decisionDocument.trimmingWhitespace(), effectiveAt: accepted,
                           acceptedAt: accepted, catalogVersion: data.catalog.version, payload: event.payload)
        let today = ChinaTime.date(of: at)
        let checked: RightsEvent
        do { checked = try RightsEvent(draft, identifiers: data.identifierContext(today: today)) } catch {
            throw Self.nodeError(error, recordId: key.recordId)
        }
        // Article 40's rules need the record's class and display window: from its current version.
        var recordClass: RecordClass?, earliestEnd: CivilDate?
        if let detail = try store.record(key) {
            recordClass = detail.recordClass.flatMap(RecordClass.init(rawValue:))
            if checked.kind == .applied, let accepted = data.validator(today: today).validate(detail.record).accepted {
                earliestEnd = accepted.display.window?.earliestEnd
            }
        }
        switch try store.writeRights(checked, key: key, node: node, credential: identity.credential, reason: draft.reason,
                                     decisionDocument: draft.decisionDocument, catalogVersion: data.catalog.version, acceptedAt: accepted,
                                     recordClass: recordClass, earliestEnd: earliestEnd) {
        case let .success((caseId, sequence)):
            metrics.accepted()
            return RightsReceipt(caseId: caseId, sequence: sequence, status: "pending")
        case let .failure(refusal):
            metrics.rejected(reasons: [refusal.code])
            throw Self.nodeError(refusal, recordId: key.recordId)
        }
    }

    /// The provider API's answer to a refused rights request (`Protocol/provider-api.openapi.json`).
    static func nodeError(_ refusal: RightsRefusal, recordId: String) -> NodeError {
        let status: HTTPResponse.Status = switch refusal.code {
        case "invalid-rights": .unprocessableContent
        case "unknown-record", "unknown-case": .notFound
        default: .conflict
        }
        let field = refusal.field.hasPrefix("payload.") ? String(refusal.field.dropFirst(8)) : refusal.field
        return NodeError(status, refusal.code, refusal.message, recordId: recordId,
                         errors: [ValidationIssue(field: field, code: refusal.code, message: refusal.message)])
    }
}
