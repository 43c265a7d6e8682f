public import Foundation

/// The credit information catalog in force: the national basic catalog plus the provincial and
/// city supplements (Article 11), merged and checked.
///
/// The catalog is data, loaded at run time, so an operator can add a supplement without a new
/// build. Loading refuses anything the regulation forbids rather than trusting the files.
public struct Catalog: Sendable {
    /// The layers: national, provincial, then city supplements.
    public let layers: [CatalogLayer]
    private let itemsByCode: [String: CatalogItem]
    /// The layer defining each item, as `id@version` (a supplement may not redefine an item, so
    /// each has one).
    private let layerByItem: [String: String]
    /// The members of an accepted record that filing and classifying it reads, under any item
    /// of this catalog (``Classification/filingProjection(decisionDateFields:)``).
    public let filingProjection: JSONProjection

    /// Merges and checks layers.
    ///
    /// Exactly one national layer is required; supplements add items and may not redefine one.
    /// - Throws: ``CatalogError`` naming the layer, item and field at fault.
    public init(layers: [CatalogLayer]) throws(CatalogError) {
        let national = layers.filter { $0.layer == .national }
        guard national.count == 1 else { throw .nationalLayerCount(national.count) }
        var seenLayers: Set<String> = []
        var items: [String: CatalogItem] = [:]
        var origin: [String: String] = [:]
        var defining: [String: String] = [:]
        for layer in layers {
            guard layer.format == CatalogLayer.currentFormat else {
                throw .unsupportedFormat(layer: layer.id, format: layer.format)
            }
            try Self.checkName(of: layer)
            guard seenLayers.insert(layer.id).inserted else { throw .duplicateLayer(layer.id) }
            guard !layer.version.isEmpty else { throw .missingVersion(layer: layer.id) }
            for item in layer.items {
                try Self.check(item, in: layer.id)
                if let first = origin[item.code] {
                    throw .duplicateItem(item: item.code, layer: layer.id, firstLayer: first)
                }
                items[item.code] = item
                origin[item.code] = layer.id
                defining[item.code] = "\(layer.id)@\(layer.version)"
            }
        }
        // National, then provincial, then city layers: the order of authority in Article 11.
        let rank: [CatalogLayerKind: Int] = [.national: 0, .provincial: 1, .city: 2]
        self.layers = layers.enumerated().sorted { (rank[$0.element.layer]!, $0.offset) < (rank[$1.element.layer]!, $1.offset) }.map(\.element)
        self.itemsByCode = items
        self.layerByItem = defining
        self.filingProjection = Classification.filingProjection(decisionDateFields: Set(items.values.map(\.decisionDateField)))
    }

    /// Decodes one layer file, naming the file in the error.
    /// - Throws: ``CatalogError/malformed(source:reason:)``.
    public static func decodeLayer(_ data: Data, source: String) throws(CatalogError) -> CatalogLayer {
        do {
            return try JSONValue.decode(CatalogLayer.self, from: Array(data))
        } catch let error as JSONValue.ParseError {
            throw .malformed(source: source, reason: "not valid JSON: \(error)")
        } catch let DecodingError.dataCorrupted(context) {
            throw .malformed(source: source, reason: Self.describe(context))
        } catch let DecodingError.keyNotFound(key, context) {
            throw .malformed(source: source, reason: "missing \"\(key.stringValue)\" at \(Self.path(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .malformed(source: source, reason: Self.describe(context))
        } catch {
            throw .malformed(source: source, reason: String(describing: error))
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        "\(context.debugDescription) at \(path(context.codingPath))"
    }

    /// The item with `code`.
    public func item(_ code: String) -> CatalogItem? { itemsByCode[code] }

    /// The layer that defines item `code`, as `id@version` (how a catalog version names it).
    public func definingLayer(ofItem code: String) -> String? { layerByItem[code] }

    /// Every item, national first, in file order.
    public var items: [CatalogItem] { layers.flatMap(\.items) }

    /// The version a record is validated against: each layer's id and version, national first
    /// (`national@2026.1+jiangxi@2026.1`). It is stored with every change.
    public var version: String { layers.map { "\($0.id)@\($0.version)" }.joined(separator: "+") }

    private static let codePattern = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
    /// Fields the classification rules read on punishment items, with the type each must have.
    static let punishmentFields: [(String, FieldType)] = [("procedure", .enum), ("severity", .enum), ("harmEliminated", .boolean)]

    /// A layer's id names its file wherever it is stored (`catalog/city-<id>.json`) and, with
    /// its version, the catalog version every change carries (`id@version`, joined by `+`): an id
    /// is 1–64 lowercase letters, digits and '-', not starting with '-', and a version 1–32
    /// letters, digits, '.', '_' and '-'. Anything else could name a path outside the data
    /// directory or make two catalog versions read alike.
    private static func checkName(of layer: CatalogLayer) throws(CatalogError) {
        let id = layer.id
        guard (1...64).contains(id.count), id.first != "-", id.allSatisfy({ codePattern.contains($0) }) else {
            throw .invalidLayer(layer: id, reason: "a layer id is 1–64 lowercase letters, digits and '-', not starting with '-'")
        }
        let versionCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard layer.version.count <= 32, layer.version.allSatisfy({ versionCharacters.contains($0) }) else {
            throw .invalidLayer(layer: id, reason: "a version is at most 32 letters, digits, '.', '_' and '-'")
        }
    }

    private static func check(_ item: CatalogItem, in layer: String) throws(CatalogError) {
        guard !item.code.isEmpty, item.code.allSatisfy({ codePattern.contains($0) }) else {
            throw .invalidItem(layer: layer, item: item.code, reason: "the code must be lowercase letters, digits and '-'")
        }
        guard !item.subjectKinds.isEmpty else {
            throw .invalidItem(layer: layer, item: item.code, reason: "it names no subject kinds")
        }
        var names: Set<String> = []
        for field in item.fields {
            if let codes = field.codes {
                for (code, value) in codes where !(field.values ?? []).contains(value) || (field.values ?? []).contains(code) {
                    throw .invalidField(layer: layer, item: item.code, field: field.name,
                                        reason: "code '\(code)' must stand for one of its values, and no value may be a code")
                }
            }
            if let category = ForbiddenInformation.match(field) {
                throw .forbiddenField(layer: layer, item: item.code, field: field.name, category: category)
            }
            guard names.insert(field.name).inserted else {
                throw .invalidField(layer: layer, item: item.code, field: field.name, reason: "it is defined twice")
            }
            if field.type == .enum, (field.values ?? []).isEmpty {
                throw .invalidField(layer: layer, item: item.code, field: field.name, reason: "an enum field needs its values")
            }
            if let other = field.notAfter, field.type != .date || other == field.name || item.field(other)?.type != .date {
                throw .invalidField(layer: layer, item: item.code, field: field.name,
                                    reason: "notAfter names another date field of the item, and only a date has one ('\(other)')")
            }
            if field.type == .persons, !item.subjectKinds.contains(.legalPerson) {
                throw .invalidField(layer: layer, item: item.code, field: field.name,
                                    reason: "responsible persons apply only to items about legal persons")
            }
        }
        guard let date = item.field(item.decisionDateField), date.type == .date, date.required else {
            throw .invalidItem(layer: layer, item: item.code,
                               reason: "its decisionDateField '\(item.decisionDateField)' must be a required date field")
        }
        if item.punishment {
            for (name, type) in punishmentFields where item.field(name)?.type != type {
                throw .invalidItem(layer: layer, item: item.code,
                                   reason: "a punishment item needs a '\(name)' field of type \(type.rawValue)")
            }
        }
    }
}

/// Why a catalog was refused.
public enum CatalogError: Error, Equatable, CustomStringConvertible {
    case malformed(source: String, reason: String)
    case unsupportedFormat(layer: String, format: String)
    case nationalLayerCount(Int)
    case duplicateLayer(String)
    case missingVersion(layer: String)
    case duplicateItem(item: String, layer: String, firstLayer: String)
    case invalidLayer(layer: String, reason: String)
    case invalidItem(layer: String, item: String, reason: String)
    case invalidField(layer: String, item: String, field: String, reason: String)
    /// Article 37: a field for information that must never be collected.
    case forbiddenField(layer: String, item: String, field: String, category: String)

    public var description: String {
        switch self {
        case let .malformed(source, reason): "catalog file \(source) is not valid: \(reason)"
        case let .unsupportedFormat(layer, format):
            "catalog layer \(layer) has format '\(format)'; this version reads \(CatalogLayer.currentFormat)"
        case let .nationalLayerCount(n): "a catalog needs exactly one national layer, found \(n)"
        case let .duplicateLayer(id): "catalog layer \(id) is loaded twice"
        case let .missingVersion(layer): "catalog layer \(layer) has no version"
        case let .duplicateItem(item, layer, first):
            "item \(item) in layer \(layer) is already defined by layer \(first); supplements add items, they do not redefine them"
        case let .invalidLayer(layer, reason): "catalog layer '\(layer)' is invalid: \(reason)"
        case let .invalidItem(layer, item, reason): "item \(item) in layer \(layer) is invalid: \(reason)"
        case let .invalidField(layer, item, field, reason): "field \(field) of item \(item) in layer \(layer) is invalid: \(reason)"
        case let .forbiddenField(layer, item, field, category):
            "field \(field) of item \(item) in layer \(layer) would collect \(category), which Article 37 forbids"
        }
    }
}
