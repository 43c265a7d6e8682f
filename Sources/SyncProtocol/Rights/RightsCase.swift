public import CreditCore
import Foundation

/// One application a credit subject made, with everything that happened to it
/// (`Protocol/rights.md` §1, §4). The hub and every node keep the same cases, moved on by the
/// same effective changes in hub-log order; the hub counts the windows from them.
public struct RightsCase: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case objection, restoration
        case listRemoval = "list-removal"
    }

    public enum State: String, Codable, Sendable, CaseIterable {
        case open, paused
        case upheld, rejected
        case granted, refused
        case removed

        public var isClosed: Bool { ![.open, .paused].contains(self) }
    }

    /// A stretch of an objection's handling that does not count (Article 39 ¶3).
    public struct Pause: Codable, Sendable, Equatable {
        public var cause: String
        /// Milliseconds since 1970.
        public var from: UInt64
        public var to: UInt64?

        public init(cause: String, from: UInt64, to: UInt64?) {
            self.cause = cause
            self.from = from
            self.to = to
        }
    }

    /// One effective change of the case: what Article 38's "every change and its reason" shows.
    public struct Step: Codable, Sendable, Equatable {
        public var event: RightsEvent.Kind
        public var node: String
        public var sequence: UInt64
        /// Milliseconds since 1970: the event's instant (``RightsCase/apply(_:of:at:)``).
        public var at: UInt64
        public var reason: String?
        public var decisionDocument: String?
        /// The member that says what the step was about: grounds, statement, units, finding, cause.
        public var detail: String?
    }

    public var id: String
    public var kind: Kind
    /// `provider/item/recordId`.
    public var recordKey: String
    public var state: State
    public var applicant: String?
    /// Units asked to check (an objection's 7-day path), with when each answered.
    public var checkUnits: [String]
    public var checksAt: UInt64?
    public var answered: [String: UInt64]
    public var pauses: [Pause]
    public var openedAt: UInt64
    public var closedAt: UInt64?
    public var steps: [Step]

    /// The case `event` (an opening event, ``RightsEvent/Kind/opensCase``) opens.
    public init(opening event: RightsEvent, of change: Change, at: UInt64) {
        precondition(event.kind.opensCase, "\(event.kind) does not open a case")
        id = RightsEvent.caseId(opening: change)
        kind = switch event.kind {
        case .filed: .objection
        case .applied: .restoration
        default: .listRemoval
        }
        recordKey = change.key.description
        state = event.kind == .removed ? .removed : .open
        applicant = event.applicant
        checkUnits = []
        answered = [:]
        pauses = []
        openedAt = at
        closedAt = event.kind == .removed ? at : nil
        steps = [Self.step(event, change, at)]
    }

    static func step(_ event: RightsEvent, _ change: Change, _ at: UInt64) -> Step {
        let detail = event.grounds ?? event.statement ?? event.finding.map { "\(event.unit ?? ""): \($0)" } ?? event.cause
            ?? (event.units.isEmpty ? nil : event.units.joined(separator: ","))
        return Step(event: event.kind, node: change.node, sequence: change.sequence, at: at,
                    reason: change.reason.isEmpty ? nil : change.reason,
                    decisionDocument: change.decisionDocument.isEmpty ? nil : change.decisionDocument, detail: detail)
    }

    /// Moves the case on by an event that ``RightsRules`` allowed. `at` is the event's instant:
    /// the change's `acceptedAt`, which the hub caps at when it received the change.
    public mutating func apply(_ event: RightsEvent, of change: Change, at: UInt64) {
        steps.append(Self.step(event, change, at))
        switch event.kind {
        case .checks:
            checkUnits = event.units
            checksAt = at
        case .checked:
            if let unit = event.unit { answered[unit] = at }
        case .paused:
            state = .paused
            pauses.append(Pause(cause: event.cause ?? "", from: at, to: nil))
        case .resumed:
            state = .open
            if !pauses.isEmpty { pauses[pauses.count - 1].to = at }
        case .upheld, .rejected, .granted, .refused:
            state = State(rawValue: event.kind.rawValue)!
            closedAt = at
        case .filed, .applied, .removed:
            break
        }
    }

    /// Whether the record shows the objection label because of this case.
    public var labels: Bool { kind == .objection && !state.isClosed }

    /// Whether this case withdrew the record's display (Articles 34 and 40).
    public var withdrawsDisplay: Bool { state == .granted || state == .removed }
}

/// What the rules need to know of the record a rights change names.
public struct RightsRecordFacts: Sendable {
    /// The record's home node.
    public var home: String
    public var revoked: Bool
    public var recordClass: RecordClass?
    /// The earliest day display may end, when the record has a display window.
    public var earliestEnd: CivilDate?
    /// The cases after whose opening the record got a new version (a correction or revocation):
    /// an objection may be upheld only then (Article 39 with Article 41).
    public var changedSince: Set<String>

    public init(home: String, revoked: Bool, recordClass: RecordClass?, earliestEnd: CivilDate?, changedSince: Set<String> = []) {
        self.home = home
        self.revoked = revoked
        self.recordClass = recordClass
        self.earliestEnd = earliestEnd
        self.changedSince = changedSince
    }
}

/// The rules of `Protocol/rights.md` §3, in one place for the hub (which decides) and the nodes
/// (which refuse at the desk what the hub would refuse).
public enum RightsRules {
    /// Why `event` (from `change`) may not stand, or `nil`. `record` is the record the change
    /// names (`nil` when none is held), `cases` every case on it, `today` the China date of the
    /// change's instant.
    public static func check(_ event: RightsEvent, of change: Change, record: RightsRecordFacts?, cases: [RightsCase],
                             today: CivilDate) -> RightsRefusal? {
        let key = change.key.description
        guard let record else { return RightsRefusal("unknown-record", "recordId", "no record \(key) is held") }
        // An objection upheld by revoking the record closes after the revocation.
        if record.revoked, !(event.kind == .upheld || event.kind == .rejected) {
            return RightsRefusal("revoked", "recordId", "record \(key) was revoked: it is too late to \(event.kind.act)")
        }
        if event.kind.homeOnly, change.node != record.home {
            return RightsRefusal("not-home", "recordId", "record \(key) is kept by node \(record.home); only its providing unit there may \(event.kind.act)")
        }
        let withdrawn = cases.contains(where: \.withdrawsDisplay)
        switch event.kind {
        case .filed:
            // The open case is named: a client that lost the answer to its filing learns its case from the retry.
            if let open = cases.first(where: { $0.kind == .objection && !$0.state.isClosed && $0.applicant == event.applicant }) {
                return RightsRefusal("duplicate-application", "payload.applicant",
                                     "\(event.applicant ?? "") already has an open objection to record \(key): case \(open.id)")
            }
            return nil
        case .applied:
            guard let recordClass = record.recordClass, recordClass.isUntrustworthy else {
                return RightsRefusal("not-restorable", "recordId",
                                     "record \(key) is \(record.recordClass?.rawValue ?? "unclassified"), not untrustworthiness information: there is no credit to restore (Article 40)")
            }
            if let end = record.earliestEnd, today < end {
                return RightsRefusal("too-early", "recordId", "record \(key) must be displayed until at least \(end) before its credit can be restored")
            }
            if withdrawn { return RightsRefusal("already-restored", "recordId", "record \(key)'s display was already withdrawn") }
            if let open = cases.first(where: { $0.kind == .restoration && !$0.state.isClosed }) {
                return RightsRefusal("duplicate-application", "recordId", "record \(key) already has an open restoration application: case \(open.id)")
            }
            return nil
        case .removed:
            guard record.recordClass == .untrustworthySerious else {
                return RightsRefusal("not-listed", "recordId", "record \(key) is not on the list of seriously untrustworthy entities")
            }
            if withdrawn { return RightsRefusal("already-removed", "recordId", "record \(key) was already removed from the list or restored") }
            return nil
        default:
            break
        }
        let expected: RightsCase.Kind = event.kind.operation == .restoration ? .restoration : .objection
        guard let id = event.caseId, let c = cases.first(where: { $0.id == id }), c.kind == expected else {
            return RightsRefusal("unknown-case", "payload.case", "record \(key) has no \(expected.rawValue) case \(event.caseId ?? "")")
        }
        if c.state.isClosed { return RightsRefusal("case-closed", "payload.case", "case \(id) was closed (\(c.state.rawValue))") }
        switch event.kind {
        case .checks where c.checksAt != nil:
            return RightsRefusal("case-state", "payload.event", "case \(id) already asked units to check")
        case .paused where c.state == .paused:
            return RightsRefusal("case-state", "payload.event", "case \(id) is paused already")
        case .resumed where c.state != .paused:
            return RightsRefusal("case-state", "payload.event", "case \(id) is not paused")
        case .upheld where c.state == .paused, .rejected where c.state == .paused:
            return RightsRefusal("case-state", "payload.event", "case \(id) is paused; resume it before deciding")
        case .upheld where !record.changedSince.contains(id):
            return RightsRefusal("correction-required", "payload.event",
                                 "an upheld objection is a correction or revocation of record \(key) (Article 41): make it first, then uphold case \(id)")
        case .checked:
            guard let unit = event.unit, c.checkUnits.contains(unit), c.answered[unit] == nil else {
                return RightsRefusal("not-checker", "payload.unit", "\(event.unit ?? "") was not asked to check case \(id), or has answered")
            }
            return nil
        default:
            return nil
        }
    }
}

extension RightsCase {
    /// The case as the hub's and the nodes' stores keep it: JSON with sorted keys.
    public var stored: String {
        get throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        }
    }

    /// Reads a case as ``stored`` wrote it.
    public init(stored: String) throws {
        self = try JSONDecoder().decode(RightsCase.self, from: Data(stored.utf8))
    }
}
