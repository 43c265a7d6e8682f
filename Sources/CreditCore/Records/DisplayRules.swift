public import Foundation

/// The national rules on how long untrustworthiness information is displayed, by the date they
/// came into force. A record's window follows the rule in force on its decision date.
public struct DisplayRules: Sendable, Codable {
    /// One rule.
    public struct Rule: Sendable, Codable, Equatable {
        /// Short id (`NDRC-58`).
        public var id: String
        public var title: String
        public var from: CivilDate
        /// Last day in force, inclusive; `nil` while in force.
        public var to: CivilDate?
        /// Periods for administrative punishments, keyed by severity (`minor`, `general`,
        /// `serious`) or `any` when the rule does not distinguish.
        public var punishment: [String: Period]
    }

    /// A display period in months from the decision date.
    public struct Period: Sendable, Codable, Equatable {
        public var minMonths: Int
        public var maxMonths: Int
        /// False where the rule says the information is normally not displayed at all.
        public var normallyDisplayed: Bool?
    }

    public var rules: [Rule]

    public init(rules: [Rule]) { self.rules = rules }

    /// Decodes the rules file.
    public static func decode(_ data: Data) throws -> DisplayRules {
        try JSONValue.decode(DisplayRules.self, from: Array(data))
    }

    /// The rule in force on `date`.
    public func rule(on date: CivilDate) -> Rule? {
        rules.first { $0.from <= date && ($0.to.map { date <= $0 } ?? true) }
    }

    /// The display window of a classified record.
    public func assess(_ classification: Classification, item: CatalogItem, decisionDate: CivilDate) -> DisplayAssessment {
        switch classification.recordClass {
        case .basic, .positive:
            return DisplayAssessment(window: nil, note: "not untrustworthiness information; no display limit applies")
        case .punishmentNotUntrustworthy:
            return DisplayAssessment(window: nil, note: classification.exemption ?? "not untrustworthiness information")
        case .untrustworthySerious where !item.punishment:
            return DisplayAssessment(window: nil, note: "displayed while the subject is on the list, until removal (Article 34) or restoration (Article 40)")
        case .untrustworthyOrdinary where !item.punishment:
            return DisplayAssessment(window: nil, note: "no national display period for this item; displayed until corrected, revoked or restored (Article 40)")
        default: break
        }
        guard let rule = rule(on: decisionDate) else {
            return DisplayAssessment(window: nil, note: "no national display rule was in force on \(decisionDate)")
        }
        var warning: String?
        var period = classification.severity.flatMap { rule.punishment[$0.rawValue] } ?? rule.punishment["any"]
        if period == nil {
            period = rule.punishment[PunishmentSeverity.general.rawValue]
            warning = "\(rule.id) sets periods by severity and the record gives none; the general (一般) period was applied"
        }
        guard let period else {
            return DisplayAssessment(window: nil, note: "\(rule.id) sets no period for this punishment")
        }
        let window = DisplayWindow(rule: rule.id, start: decisionDate,
                                   earliestEnd: decisionDate.adding(months: period.minMonths),
                                   latestEnd: decisionDate.adding(months: period.maxMonths),
                                   normallyDisplayed: period.normallyDisplayed ?? true)
        return DisplayAssessment(window: window, note: rule.title, warning: warning)
    }
}

/// How long a record is displayed.
public struct DisplayWindow: Sendable, Equatable, Codable {
    /// The rule that set it.
    public var rule: String
    public var start: CivilDate
    /// The earliest day display may end (through restoration).
    public var earliestEnd: CivilDate
    /// Display stops automatically at this date.
    public var latestEnd: CivilDate
    /// False where the rule says such information is normally not displayed.
    public var normallyDisplayed: Bool
}

/// A record's display window, or why it has none.
public struct DisplayAssessment: Sendable, Equatable, Codable {
    public var window: DisplayWindow?
    public var note: String
    /// A caveat (a default the rules had to assume).
    public var warning: String?

    public init(window: DisplayWindow?, note: String, warning: String? = nil) {
        self.window = window
        self.note = note
        self.warning = warning
    }
}
