/// How a record counts, after the regulation's rules are applied to its catalog category.
public enum RecordClass: String, Sendable, Codable, CaseIterable {
    case basic
    case positive
    case untrustworthyOrdinary = "untrustworthy-ordinary"
    case untrustworthySerious = "untrustworthy-serious"
    /// An administrative punishment that Article 15 ¶2 keeps out of untrustworthiness information
    /// (simplified procedure, or minor with the harm proactively eliminated). It is still a
    /// published punishment record.
    case punishmentNotUntrustworthy = "punishment-not-untrustworthy"

    public var isUntrustworthy: Bool { self == .untrustworthyOrdinary || self == .untrustworthySerious }
}

/// The severity classes of administrative punishments in the national display rules.
public enum PunishmentSeverity: String, Sendable, Codable, CaseIterable {
    /// 轻微.
    case minor
    /// 一般.
    case general
    /// 严重.
    case serious
}

/// A record's class and the facts that decided it.
public struct Classification: Sendable, Equatable, Codable {
    public var recordClass: RecordClass
    /// The category the catalog gives the item.
    public var catalogCategory: RecordCategory
    /// Why Article 15 ¶2 exempts the record, when it does.
    public var exemption: String?
    /// Article 27: untrustworthy conduct of a minor is designated, recorded and punished leniently.
    public var lenient: Bool
    public var lenientReason: String?
    /// For punishments: the severity the provider gave, if any.
    public var severity: PunishmentSeverity?

    /// Classifies a record of `item` decided on `decisionDate`.
    ///
    /// - Article 15 ¶2: a punishment under the simplified procedure, or a minor one whose harmful
    ///   consequences the subject proactively eliminated, is not untrustworthiness information.
    /// - Article 27: untrustworthy conduct of a subject under 18 on the decision date is flagged
    ///   for lenient handling. The age is known from the resident identity number; for other
    ///   documents it is not known and the record is not flagged.
    public static func classify(_ record: CreditRecord, item: CatalogItem, decisionDate: CivilDate) -> Classification {
        var result = Classification(recordClass: RecordClass(rawValue: item.category.rawValue)!,
                                    catalogCategory: item.category, exemption: nil, lenient: false,
                                    lenientReason: nil, severity: nil)
        if item.punishment {
            result.severity = record.fields["severity"]?.stringValue.flatMap(PunishmentSeverity.init(rawValue:))
            let simplified = record.fields["procedure"]?.stringValue == "simplified"
            let remedied = record.fields["harmEliminated"] == .bool(true)
            if item.category.isUntrustworthy {
                if simplified {
                    result.recordClass = .punishmentNotUntrustworthy
                    result.exemption = "Article 15: a punishment under the simplified procedure is not untrustworthiness information"
                } else if result.severity == .minor && remedied {
                    result.recordClass = .punishmentNotUntrustworthy
                    result.exemption = "Article 15: minor conduct whose harmful consequences the subject proactively eliminated is not untrustworthiness information"
                }
            }
        }
        if result.recordClass.isUntrustworthy, let id = record.subject.residentId,
           let birth = CivilDate(compact: id.dropFirst(6).prefix(8)) {
            let age = birth.wholeYears(until: decisionDate)
            if age < 18 {
                result.lenient = true
                result.lenientReason = "Article 27: the subject was \(age), a minor, on the decision date \(decisionDate)"
            }
        }
        return result
    }
}

extension Classification {
    /// The members of an accepted record a node reads to file it — the item, the subject, the
    /// Article 33 persons — and those ``classify(_:item:decisionDate:)`` reads, with each
    /// item's decision date. A node applying fanned-out records builds only these: the record
    /// was validated where it was written and again at the hub, and the rest is stored as bytes.
    public static func filingProjection(decisionDateFields: Set<String>) -> JSONProjection {
        JSONProjection(paths: ["item", "recordId", "subject", "fields.responsiblePersons", "fields.severity", "fields.procedure",
                               "fields.harmEliminated"] + decisionDateFields.sorted().map { "fields.\($0)" })
    }
}
