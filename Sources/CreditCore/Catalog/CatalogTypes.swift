/// How a catalog item's information counts in a subject's credit record (Articles 12–15).
public enum RecordCategory: String, Sendable, Codable, CaseIterable {
    case basic
    case positive
    case untrustworthyOrdinary = "untrustworthy-ordinary"
    case untrustworthySerious = "untrustworthy-serious"

    /// Whether information of this category is untrustworthiness information.
    public var isUntrustworthy: Bool { self == .untrustworthyOrdinary || self == .untrustworthySerious }
}

/// Whom a record is about. Article 19 matches natural persons by resident identity number (or
/// another document) and everyone else by unified social credit code.
public enum SubjectKind: String, Sendable, Codable, CaseIterable {
    /// 法人及非法人组织: legal persons and unincorporated organizations.
    case legalPerson = "legal-person"
    /// 自然人.
    case naturalPerson = "natural-person"
    /// 个体工商户: registered with a USCC, run by a natural person.
    case individualBusiness = "individual-business"

    /// The label the national double-publicity formats use (`*_XDR_LB`).
    public var nationalLabel: String {
        switch self {
        case .legalPerson: "法人及非法人组织"
        case .naturalPerson: "自然人"
        case .individualBusiness: "个体工商户"
        }
    }
}

/// Who may see a catalog item's records (Article 20).
public enum Disclosure: String, Sendable, Codable, CaseIterable {
    /// Published to anyone (double publicity, the lists).
    case `public`
    /// Shared among government units for their duties, not published.
    case shared
    /// Released only with the subject's authorization or to authorized users.
    case authorized
}

/// The value type of a catalog field.
public enum FieldType: String, Sendable, Codable, CaseIterable {
    /// Short text, 200 characters unless `maxLength` says otherwise.
    case string
    /// Long text, 4,000 characters unless `maxLength` says otherwise.
    case text
    /// `YYYY-MM-DD`.
    case date
    /// An exact decimal (amounts in 万元 are decimal(18,6)); a JSON number or numeric text.
    case decimal
    case integer
    case boolean
    /// One of `values`.
    case `enum`
    /// A unified social credit code, validated and normalized.
    case uscc
    /// A resident identity number, validated and normalized.
    case residentID = "resident-id"
    /// The responsible persons of a legal person's serious untrustworthiness (Article 33).
    case persons
}

/// The role of a person named with a legal person's serious untrustworthiness (Article 33).
public enum ResponsibleRole: String, Sendable, Codable, CaseIterable {
    case legalRepresentative = "legal-representative"
    case principalResponsiblePerson = "principal-responsible-person"
    case actualController = "actual-controller"
    case directlyResponsiblePerson = "directly-responsible-person"

    public var name: String {
        switch self {
        case .legalRepresentative: "法定代表人"
        case .principalResponsiblePerson: "主要负责人"
        case .actualController: "实际控制人"
        case .directlyResponsiblePerson: "其他直接责任人员"
        }
    }
}

/// One field of a catalog item.
///
/// A class, immutable: the validator visits every field of an item for every record, and a
/// struct of a dozen strings and lists would be copied (each member retained and released) at
/// every visit.
public final class FieldSpec: Sendable, Codable, Equatable {
    /// The key in a record's `fields` (national codes such as `CF_WSH` where the standard has one).
    public let name: String
    /// The field's name as clerks know it, used in every error message.
    public let label: String
    public let type: FieldType
    /// Required for every subject kind.
    public let required: Bool
    /// Required only for these subject kinds (the Article 33 persons for legal persons, say).
    public let requiredFor: [SubjectKind]?
    /// For `enum`: the allowed values.
    public let values: [String]?
    /// For `enum`: codes an export may carry instead of a value (the national double-publicity
    /// template codes 当前状态 as `1` and `2`), each mapped to its value. A record is stored with
    /// the value, never the code.
    public let codes: [String: String]?
    /// For `string` and `text`: the longest value, in characters.
    public let maxLength: Int?
    /// For `decimal`: the most digits after the decimal point.
    public let scale: Int?
    /// For `decimal` and `integer`: whether negative values are refused.
    public let nonNegative: Bool?
    /// For `persons`: at least one person must hold one of these roles (a legal person names its
    /// legal representative, an unincorporated organization its principal responsible person).
    public let requiredOneOfRoles: [ResponsibleRole]?
    /// For `date`: another date field of the item this one may not be later than (the prior
    /// notice of a serious-list designation is served before the designation, Article 31).
    public let notAfter: String?
    public let description: String?

    public init(name: String, label: String, type: FieldType, required: Bool = false,
                requiredFor: [SubjectKind]? = nil, values: [String]? = nil, codes: [String: String]? = nil, maxLength: Int? = nil,
                scale: Int? = nil, nonNegative: Bool? = nil, requiredOneOfRoles: [ResponsibleRole]? = nil, notAfter: String? = nil,
                description: String? = nil) {
        self.notAfter = notAfter
        self.name = name
        self.label = label
        self.type = type
        self.required = required
        self.requiredFor = requiredFor
        self.values = values
        self.codes = codes
        self.maxLength = maxLength
        self.scale = scale
        self.nonNegative = nonNegative
        self.requiredOneOfRoles = requiredOneOfRoles
        self.description = description
    }

    public static func == (a: FieldSpec, b: FieldSpec) -> Bool {
        a === b || (a.name == b.name && a.label == b.label && a.type == b.type && a.required == b.required
            && a.requiredFor == b.requiredFor && a.values == b.values && a.codes == b.codes && a.maxLength == b.maxLength && a.scale == b.scale
            && a.nonNegative == b.nonNegative && a.requiredOneOfRoles == b.requiredOneOfRoles && a.notAfter == b.notAfter
            && a.description == b.description)
    }

    enum CodingKeys: String, CodingKey {
        case name, label, type, required, requiredFor, values, codes, maxLength, scale, nonNegative, requiredOneOfRoles, notAfter, description
    }

    public required init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        label = try c.decode(String.self, forKey: .label)
        type = try c.decode(FieldType.self, forKey: .type)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        requiredFor = try c.decodeIfPresent([SubjectKind].self, forKey: .requiredFor)
        values = try c.decodeIfPresent([String].self, forKey: .values)
        codes = try c.decodeIfPresent([String: String].self, forKey: .codes)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        scale = try c.decodeIfPresent(Int.self, forKey: .scale)
        nonNegative = try c.decodeIfPresent(Bool.self, forKey: .nonNegative)
        requiredOneOfRoles = try c.decodeIfPresent([ResponsibleRole].self, forKey: .requiredOneOfRoles)
        notAfter = try c.decodeIfPresent(String.self, forKey: .notAfter)
        description = try c.decodeIfPresent(String.self, forKey: .description)
    }

    /// `标签 (NAME)`: how messages name the field.
    public var displayName: String { label == name ? name : "\(label) (\(name))" }
}

/// The part of a ``FieldSpec`` that validating a value needs, as plain values.
///
/// Records are validated on every core at once, and the catalog is shared: each reference to a
/// shared object taken in the loop over a record's fields is an atomic count the cores contend
/// for. These rules hold no references, so the loop takes none; the specification itself is
/// consulted only for what is rare (messages, enum values, persons).
struct FieldRule: Sendable, Equatable {
    var type: FieldType
    var required: Bool
    /// ``FieldSpec/requiredFor`` as bits, by ``SubjectKind/bit``.
    var requiredFor: UInt8
    /// The longest text, in characters, for `string` and `text`.
    var maxLength: Int
    var scale: Int?
    var nonNegative: Bool
    /// Whether this is the item's decision date (which may not lie in the future).
    var isDecisionDate: Bool

    init(_ spec: FieldSpec, decisionDateField: String) {
        type = spec.type
        required = spec.required
        requiredFor = (spec.requiredFor ?? []).reduce(0) { $0 | $1.bit }
        maxLength = spec.maxLength ?? (spec.type == .string ? 200 : 4000)
        scale = spec.scale
        nonNegative = spec.nonNegative == true
        isDecisionDate = spec.name == decisionDateField
    }

    /// Whether a record about a subject of `kind` must carry this field.
    func isRequired(for kind: SubjectKind) -> Bool { required || requiredFor & kind.bit != 0 }
}

extension SubjectKind {
    /// One bit per kind, for ``FieldRule/requiredFor``.
    var bit: UInt8 {
        switch self {
        case .legalPerson: 1
        case .naturalPerson: 2
        case .individualBusiness: 4
        }
    }
}

/// One item of the credit information catalog.
///
/// A class, immutable: an accepted record refers to its item, and records are validated on
/// every core at once; one shared reference is one count where a struct's copy would count
/// each of its members.
public final class CatalogItem: Sendable, Codable, Equatable {
    /// Stable code, lowercase words joined by `-` (`administrative-punishment`).
    public let code: String
    /// The item's Chinese name.
    public let name: String
    /// English title.
    public let title: String
    public let category: RecordCategory
    /// The article of the regulation or the national rule the item rests on.
    public let basis: String
    public let subjectKinds: [SubjectKind]
    public let disclosure: Disclosure
    /// The field holding the decision date, from which display windows run.
    public let decisionDateField: String
    /// Whether the item is an administrative punishment: Article 15's exemptions and the national
    /// punishment display periods apply, through its `procedure`, `severity` and `harmEliminated` fields.
    public let punishment: Bool
    public let fields: [FieldSpec]
    private let index: FieldIndex

    /// What the validator looks fields up by, derived from ``fields`` once.
    private struct FieldIndex: Sendable {
        /// Fields by name, for constant-time lookup while validating.
        var positions: [String: Int]
        /// What validation checks of each field, by position, as plain values.
        var rules: [FieldRule]
        /// The fields in canonical JSON's key order (by UTF-8 bytes of the name), so that a
        /// validated record is written without sorting; each key is already written
        /// (`"name":`) in `keyBytes`.
        var canonicalKeys: [CanonicalKey]
        var keyBytes: [UInt8]
        /// Pairs of date fields by position whose first may not be later than its second (``FieldSpec/notAfter``).
        var dateOrder: [(earlier: Int, later: Int)]

        init(_ fields: [FieldSpec], decisionDateField: String) {
            positions = Dictionary(fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
            let names = positions
            dateOrder = fields.enumerated().compactMap { position, spec in spec.notAfter.flatMap { names[$0] }.map { (position, $0) } }
            rules = fields.map { FieldRule($0, decisionDateField: decisionDateField) }
            var bytes: [UInt8] = []
            canonicalKeys = fields.indices.sorted { String.utf8Precedes(fields[$0].name, fields[$1].name) }.map { position in
                let start = bytes.count
                JSONValue.writeString(fields[position].name, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                return CanonicalKey(position: position, bytes: start..<bytes.count)
            }
            keyBytes = bytes
        }
    }

    /// A field's position in ``fields`` and where its JSON key is in ``canonicalKeyBytes``.
    struct CanonicalKey: Sendable, Equatable {
        var position: Int
        var bytes: Range<Int>
    }

    var fieldRules: [FieldRule] { index.rules }
    var canonicalKeys: [CanonicalKey] { index.canonicalKeys }
    var canonicalKeyBytes: [UInt8] { index.keyBytes }

    public init(code: String, name: String, title: String, category: RecordCategory, basis: String,
                subjectKinds: [SubjectKind], disclosure: Disclosure, decisionDateField: String,
                punishment: Bool = false, fields: [FieldSpec]) {
        self.code = code
        self.name = name
        self.title = title
        self.category = category
        self.basis = basis
        self.subjectKinds = subjectKinds
        self.disclosure = disclosure
        self.decisionDateField = decisionDateField
        self.punishment = punishment
        self.fields = fields
        index = FieldIndex(fields, decisionDateField: decisionDateField)
    }

    public static func == (a: CatalogItem, b: CatalogItem) -> Bool {
        a === b || (a.code == b.code && a.name == b.name && a.title == b.title && a.category == b.category && a.basis == b.basis
            && a.subjectKinds == b.subjectKinds && a.disclosure == b.disclosure && a.decisionDateField == b.decisionDateField
            && a.punishment == b.punishment && a.fields == b.fields)
    }

    enum CodingKeys: String, CodingKey {
        case code, name, title, category, basis, subjectKinds, disclosure, decisionDateField, punishment, fields
    }

    public required init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decode(String.self, forKey: .code)
        name = try c.decode(String.self, forKey: .name)
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? ""
        category = try c.decode(RecordCategory.self, forKey: .category)
        basis = try c.decodeIfPresent(String.self, forKey: .basis) ?? ""
        subjectKinds = try c.decode([SubjectKind].self, forKey: .subjectKinds)
        disclosure = try c.decode(Disclosure.self, forKey: .disclosure)
        decisionDateField = try c.decode(String.self, forKey: .decisionDateField)
        punishment = try c.decodeIfPresent(Bool.self, forKey: .punishment) ?? false
        fields = try c.decode([FieldSpec].self, forKey: .fields)
        index = FieldIndex(fields, decisionDateField: decisionDateField)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(name, forKey: .name)
        try c.encode(title, forKey: .title)
        try c.encode(category, forKey: .category)
        try c.encode(basis, forKey: .basis)
        try c.encode(subjectKinds, forKey: .subjectKinds)
        try c.encode(disclosure, forKey: .disclosure)
        try c.encode(decisionDateField, forKey: .decisionDateField)
        try c.encode(punishment, forKey: .punishment)
        try c.encode(fields, forKey: .fields)
    }

    /// The field named `name`.
    public func field(_ name: String) -> FieldSpec? { index.positions[name].map { fields[$0] } }

    /// Pairs of date fields by position whose first may not be later than its second.
    var dateOrder: [(earlier: Int, later: Int)] { index.dateOrder }

    /// Where field `name` stands in ``fields``.
    func fieldPosition(_ name: String) -> Int? { index.positions[name] }

    /// Whether the item defines field `name` (without copying its specification).
    public func hasField(_ name: String) -> Bool { index.positions[name] != nil }
}

/// Which authority a catalog layer comes from (Article 11).
public enum CatalogLayerKind: String, Sendable, Codable {
    case national, provincial, city
}

/// One catalog file: the national basic catalog, the provincial supplement, or a districted
/// city's supplement.
public struct CatalogLayer: Sendable, Codable, Equatable {
    /// The file format, `creditsync-catalog/1`.
    public var format: String
    public var layer: CatalogLayerKind
    /// Stable identifier of the layer (`national`, `jiangxi`, `360100`).
    public var id: String
    /// The layer's version; every change names the versions it was validated against.
    public var version: String
    public var title: String
    /// The division that issued a provincial or city layer.
    public var division: String?
    public var items: [CatalogItem]

    public static let currentFormat = "creditsync-catalog/1"

    public init(format: String = CatalogLayer.currentFormat, layer: CatalogLayerKind, id: String, version: String,
                title: String, division: String? = nil, items: [CatalogItem]) {
        self.format = format
        self.layer = layer
        self.id = id
        self.version = version
        self.title = title
        self.division = division
        self.items = items
    }
}
