/// A decimal number kept as text: validated, measured and put in canonical form without ever
/// passing through binary floating point, so `0.2` 万元 stays exactly `0.2`.
struct DecimalText {
    let isNegative: Bool
    let integerPart: String
    let fractionPart: String

    /// Parses `-?digits(.digits)?`; with `integer`, also accepts `N.0…` and refuses real fractions.
    init?(_ text: String, integer: Bool = false) {
        var s = Substring(text)
        isNegative = s.first == "-"
        if isNegative || s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else { return nil }
        while fraction.last == "0" { fraction = fraction.dropLast() }
        if integer, !fraction.isEmpty { return nil }
        let trimmedWhole = whole.drop { $0 == "0" }
        integerPart = trimmedWhole.isEmpty ? "0" : String(trimmedWhole)
        fractionPart = String(fraction)
    }

    var fractionDigits: Int { fractionPart.count }
    var integerDigits: Int { integerPart == "0" ? 0 : integerPart.count }

    /// Without superfluous zeros or sign: `000.500` is `0.5`, `-0` is `0`.
    var canonical: String {
        let body = fractionPart.isEmpty ? integerPart : "\(integerPart).\(fractionPart)"
        return isNegative && body != "0" ? "-" + body : body
    }
}
