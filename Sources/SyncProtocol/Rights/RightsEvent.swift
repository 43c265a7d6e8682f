public import CreditCore

/// Why a rights change may not stand (`Protocol/rights.md` §2–3): a stable code, the field at
/// fault, and a message a clerk can act on.
public struct RightsRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var field: String
    public var message: String

    public init(_ code: String, _ field: String, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { "\(code) (\(field)): \(message)" }
}

/// One change of operation 4–7, read from its rights document (`Protocol/rights.md` §2).
public struct RightsEvent: Sendable, Equatable {
    /// What happened, the `event` member.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case filed, checks, checked, paused, resumed
        case upheld, rejected
        case applied, granted, refused
        case removed

        /// The act in words, for the messages that refuse it: the raw values are past tenses
        /// ("only its providing unit may paused" read as a typo to a clerk).
        public var act: String {
            switch self {
            case .filed: "file an objection"
            case .checks: "send the case for checking"
            case .checked: "answer a check"
            case .paused: "pause the case"
            case .resumed: "resume the case"
            case .upheld: "uphold the objection"
            case .rejected: "reject the objection"
            case .applied: "apply for restoration"
            case .granted: "grant restoration"
            case .refused: "refuse restoration"
            case .removed: "remove the record from the list"
            }
        }

        /// The operation that carries the event.
        public var operation: ChangeOperation {
            switch self {
            case .filed, .checks, .checked, .paused, .resumed: .objectionLabel
            case .upheld, .rejected: .objectionOutcome
            case .applied, .granted, .refused: .restoration
            case .removed: .listRemoval
            }
        }

        /// Whether the event opens a case (and so names none).
        public var opensCase: Bool { self == .filed || self == .applied || self == .removed }

        /// Whether only the record's home may emit it.
        public var homeOnly: Bool { !(self == .filed || self == .applied || self == .checked) }

        /// Whether the change must carry a reason (and, for a removal, a decision document).
        var needsReason: Bool { [.upheld, .rejected, .granted, .refused, .removed].contains(self) }
    }

    /// Causes that stop an objection's clock (Article 39 ¶3).
    public static let pauseCauses = ["inspection", "testing", "quarantine", "evaluation", "expert-review"]

    public var kind: Kind
    /// The case a later event belongs to; `nil` for an opening event.
    public var caseId: String?
    public var applicant: String?
    public var grounds: String?
    public var statement: String?
    public var units: [String]
    public var unit: String?
    public var finding: String?
    public var cause: String?

    public init(kind: Kind, caseId: String? = nil, applicant: String? = nil, grounds: String? = nil, statement: String? = nil,
                units: [String] = [], unit: String? = nil, finding: String? = nil, cause: String? = nil) {
        self.kind = kind
        self.caseId = caseId
        self.applicant = applicant
        self.grounds = grounds
        self.statement = statement
        self.units = units
        self.unit = unit
        self.finding = finding
        self.cause = cause
    }

    /// The members each event carries besides `event`.
    static func members(_ kind: Kind) -> [String] {
        switch kind {
        case .filed: ["applicant", "grounds"]
        case .checks: ["case", "units"]
        case .checked: ["case", "finding", "unit"]
        case .paused: ["case", "cause"]
        case .resumed, .upheld, .rejected, .granted, .refused: ["case"]
        case .applied: ["applicant", "statement"]
        case .removed: []
        }
    }

    /// The rights document: canonical JSON (`Protocol/rights.md` §2).
    public var payload: [UInt8] {
        var object: [String: JSONValue] = ["event": .string(kind.rawValue)]
        if let caseId { object["case"] = .string(caseId) }
        if let applicant { object["applicant"] = .string(applicant) }
        if let grounds { object["grounds"] = .string(grounds) }
        if let statement { object["statement"] = .string(statement) }
        if kind == .checks { object["units"] = .array(units.map(JSONValue.string)) }
        if let unit { object["unit"] = .string(unit) }
        if let finding { object["finding"] = .string(finding) }
        if let cause { object["cause"] = .string(cause) }
        return JSONValue.object(object).serializedBytes
    }

    /// The case id a change opens: its node and sequence.
    public static func caseId(opening change: Change) -> String { "\(change.node)-\(change.sequence)" }

    /// Reads and checks the rights document of `change` (`Protocol/rights.md` §2).
    /// `identifiers` checks the units' credit codes; `nil` reads a document that was checked
    /// before (one the hub logged, or this node's own) without checking them again.
    /// - Throws: ``RightsRefusal`` with code `invalid-rights` and the member at fault.
    public init(_ change: Change, identifiers: IdentifierContext?) throws(RightsRefusal) {
        func invalid(_ field: String, _ message: String) -> RightsRefusal {
            RightsRefusal("invalid-rights", field, "\(change.operation.name) of record \(change.key.recordId): \(message)")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(change.payload) } catch { throw invalid("payload", "the payload is not JSON: \(error)") }
        guard case let .object(object) = json else { throw invalid("payload", "the payload must be a JSON object") }
        guard let name = object["event"]?.stringValue, let kind = Kind(rawValue: name) else {
            throw invalid("payload.event", "'event' must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard kind.operation == change.operation else {
            throw invalid("payload.event", "event '\(name)' is carried by operation \(kind.operation.name), not \(change.operation.name)")
        }
        let allowed = Set(Self.members(kind) + ["event"])
        if let extra = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw invalid("payload.\(extra)", "a '\(name)' document has no member '\(extra)'")
        }
        func text(_ member: String, max: Int) throws(RightsRefusal) -> String {
            guard let value = object[member]?.stringValue else { throw invalid("payload.\(member)", "'\(member)' is required, as text") }
            let trimmed = value.trimmingWhitespace()
            guard !trimmed.isEmpty else { throw invalid("payload.\(member)", "'\(member)' is empty") }
            guard trimmed == value else { throw invalid("payload.\(member)", "'\(member)' has white space around it") }
            guard value.unicodeScalars.count <= max else { throw invalid("payload.\(member)", "'\(member)' is longer than \(max) characters") }
            return value
        }
        var event = RightsEvent(kind: kind)
        if !kind.opensCase { event.caseId = try text("case", max: 64) }
        switch kind {
        case .filed:
            event.applicant = try text("applicant", max: 200)
            event.grounds = try text("grounds", max: 2000)
        case .applied:
            event.applicant = try text("applicant", max: 200)
            event.statement = try text("statement", max: 2000)
        case .checks:
            guard case let .array(list)? = object["units"], (1...20).contains(list.count) else {
                throw invalid("payload.units", "'units' must list 1 to 20 credit codes of the units asked to check")
            }
            for (i, item) in list.enumerated() {
                guard let code = item.stringValue,
                      identifiers.map({ (try? UnifiedSocialCreditCode.parse(code, context: $0))?.value == code }) ?? true else {
                    throw invalid("payload.units[\(i)]", "'\(item.stringValue ?? "\(item)")' is not a valid unified social credit code")
                }
                guard code != change.key.provider else { throw invalid("payload.units[\(i)]", "the record's own provider cannot be asked to check") }
                guard !event.units.contains(code) else { throw invalid("payload.units[\(i)]", "\(code) is listed twice") }
                event.units.append(code)
            }
        case .checked:
            event.unit = try text("unit", max: 32)
            event.finding = try text("finding", max: 2000)
        case .paused:
            let cause = try text("cause", max: 32)
            guard Self.pauseCauses.contains(cause) else {
                throw invalid("payload.cause", "'cause' must be one of \(Self.pauseCauses.joined(separator: ", ")) (Article 39)")
            }
            event.cause = cause
        case .resumed, .upheld, .rejected, .granted, .refused, .removed:
            break
        }
        if kind.needsReason, change.reason.trimmingWhitespace().isEmpty {
            throw invalid("reason", "a '\(name)' must say why, in the change's reason")
        }
        if kind == .removed, change.decisionDocument.trimmingWhitespace().isEmpty {
            throw invalid("decisionDocument", "a list removal needs the decision document behind it (Article 34)")
        }
        guard event.payload == change.payload else {
            throw invalid("payload", "the payload is not the document's canonical JSON (keys sorted, no white space)")
        }
        self = event
    }
}
