/// Maps CSV exports in the national double-publicity layouts (administrative permits, `XK_`
/// columns; administrative punishments, `CF_` columns) to records.
///
/// The subject columns (`*_XDR_MC` name, `*_XDR_LB` category, `*_XDR_SHXYM` credit code,
/// `*_XDR_ZJLX`/`*_XDR_ZJHM` a person's document) become the record's subject; every other
/// non-empty cell becomes a field of the same name, so the catalog's strict validation reports
/// unknown columns by name. The record id is the `RECORD_ID` column when present, else the
/// decision document number (`XK_WSH`, `CF_WSH`), which a unit never reuses. Columns whose name
/// starts with `_` are notes (such as the `_errors` column of a rejects file) and are ignored, so
/// a clerk can fix a rejects file and submit it as it is.
public enum DoublePublicityCSV {
    /// A CSV layout.
    public enum Layout: String, Sendable {
        case permit = "XK"
        case punishment = "CF"

        public var item: String { self == .permit ? "administrative-permit" : "administrative-punishment" }
    }

    /// One data row mapped to a record (as JSON, for the validator), with its line for errors.
    public struct Row: Sendable {
        public var line: Int
        public var recordId: String?
        public var record: JSONValue
    }

    /// Why a file could not be mapped at all.
    public enum MappingError: Error, Equatable, CustomStringConvertible {
        case empty
        case unknownLayout([String])
        case csv(CSV.ParseError)
        case width(line: Int, found: Int, expected: Int)

        public var description: String {
            switch self {
            case .empty: "the CSV file has no header row"
            case let .unknownLayout(header):
                "the header (\(header.prefix(5).joined(separator: ","))…) is neither the permit (XK_) nor the punishment (CF_) layout"
            case let .csv(error): "\(error)"
            case let .width(line, found, expected): "CSV line \(line) has \(found) fields, the header has \(expected)"
            }
        }
    }

    /// Parses and maps a whole file.
    public static func rows(_ text: String) throws(MappingError) -> (Layout, [Row]) {
        let table: [(line: Int, cells: [String])]
        do { table = try CSV.records(text) } catch { throw .csv(error) }
        guard let header = table.first?.cells.map({ $0.trimmingWhitespace() }) else { throw .empty }
        let layout: Layout
        if header.contains(where: { $0.hasPrefix("CF_") }) { layout = .punishment }
        else if header.contains(where: { $0.hasPrefix("XK_") }) { layout = .permit }
        else { throw .unknownLayout(header) }
        var rows: [Row] = []
        for (line, cells) in table.dropFirst() {
            guard cells.count == header.count else { throw .width(line: line, found: cells.count, expected: header.count) }
            var values: [String: String] = [:]
            for (name, cell) in zip(header, cells) {
                let v = cell.trimmingWhitespace()
                if !v.isEmpty { values[name] = v }
            }
            rows.append(map(values, layout: layout, line: line))
        }
        return (layout, rows)
    }

    static let documentTypes: [String: DocumentType] = [
        "护照": .passport, "港澳居民来往内地通行证": .hkMacauPermit, "台湾居民来往大陆通行证": .taiwanPermit,
        "外国人永久居留身份证": .foreignPermanentResidence, "军官证": .militaryID, "士兵证": .militaryID,
    ]
    static let residentIDLabels: Set<String> = ["身份证", "居民身份证", "中华人民共和国居民身份证", "港澳台居民居住证"]

    static func map(_ cells: [String: String], layout: Layout, line: Int) -> Row {
        var values = cells
        let p = layout.rawValue
        let name = values.removeValue(forKey: "\(p)_XDR_MC")
        let category = values.removeValue(forKey: "\(p)_XDR_LB")
        let uscc = values.removeValue(forKey: "\(p)_XDR_SHXYM")
        let docType = values.removeValue(forKey: "\(p)_XDR_ZJLX")
        let docNumber = values.removeValue(forKey: "\(p)_XDR_ZJHM")
        let recordId = values.removeValue(forKey: "RECORD_ID") ?? values["\(p)_WSH"]

        var subject: [String: JSONValue] = [:]
        let kind: SubjectKind? = switch category {
        case SubjectKind.legalPerson.nationalLabel?: .legalPerson
        case SubjectKind.naturalPerson.nationalLabel?: .naturalPerson
        case SubjectKind.individualBusiness.nationalLabel?: .individualBusiness
        case nil: uscc != nil ? .legalPerson : (docNumber != nil ? .naturalPerson : nil)
        default: nil
        }
        if let kind { subject["kind"] = .string(kind.rawValue) } else if let category { subject["kind"] = .string(category) }
        if let name { subject["name"] = .string(name) }
        if let uscc { subject["uscc"] = .string(uscc) }
        if let docNumber {
            if docType == nil || residentIDLabels.contains(docType!) {
                subject["residentId"] = .string(docNumber)
            } else {
                let type = documentTypes[docType!] ?? .other
                subject["document"] = .object(["type": .string(type.rawValue), "number": .string(docNumber)])
            }
        }
        var fields: [String: JSONValue] = [:]
        for (k, v) in values where !k.hasPrefix("_") {
            fields[k] = (k == "harmEliminated" && (v == "true" || v == "false")) ? .bool(v == "true") : .string(v)
        }
        var record: [String: JSONValue] = ["item": .string(layout.item), "subject": .object(subject), "fields": .object(fields)]
        if let recordId { record["recordId"] = .string(recordId) }
        return Row(line: line, recordId: recordId, record: .object(record))
    }
}
