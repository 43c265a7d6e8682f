/// The set of six-digit GB/T 2260 administrative division codes an identifier may carry.
///
/// An identity number keeps the code of the county where it was first issued, even after that
/// county was merged or renamed, so validation checks against every code in use since 1981,
/// current or retired, across the whole country: a Jiangxi platform holds records of subjects
/// born anywhere.
public struct DivisionCodes: Sendable {
    private let codes: Set<String>
    private let names: [String: String]

    /// Prefixes of Hong Kong, Macau and Taiwan residence permits, which use the resident
    /// identity number layout without being GB/T 2260 county codes.
    public static let residencePermitPrefixes: Set<String> = ["810000", "820000", "830000"]

    /// Creates a set from codes and (optionally) their names.
    public init(names: [String: String]) {
        self.names = names
        self.codes = Set(names.keys)
    }

    /// Parses the national history CSV (`代码,一级行政区,二级行政区,名称,级别,状态,…`): the first
    /// column is the code and the fourth the name; a header row and a UTF-8 BOM are skipped.
    /// - Throws: ``DivisionCodesError`` naming the first malformed line.
    public static func parseHistoryCSV(_ text: String) throws(DivisionCodesError) -> DivisionCodes {
        var names: [String: String] = [:]
        var lineNumber = 0
        for line in text.split(whereSeparator: \.isNewline) {
            lineNumber += 1
            var row = line
            if lineNumber == 1 {
                if row.first == "\u{FEFF}" { row = row.dropFirst() }
                if !(row.first?.isNumber ?? false) { continue } // header
            }
            let columns = row.split(separator: ",", omittingEmptySubsequences: false)
            guard let code = columns.first, code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else {
                throw DivisionCodesError(line: lineNumber, text: String(line))
            }
            names[String(code)] = columns.count > 3 ? String(columns[3]) : ""
        }
        return DivisionCodes(names: names)
    }

    /// Whether `code` is a known division code or a residence-permit prefix.
    public func contains(_ code: some StringProtocol) -> Bool {
        let key = String(code)
        return codes.contains(key) || Self.residencePermitPrefixes.contains(key)
    }

    /// The division's name, when known.
    public func name(of code: String) -> String? { names[code] }

    /// How many codes are known.
    public var count: Int { codes.count }
}

/// A division list line that is not of the expected form.
public struct DivisionCodesError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var text: String
    public var description: String { "division list line \(line) does not start with a six-digit code: \(text)" }
}
