/// A typed identifier error that can explain itself to a clerk and to a program.
public protocol IdentifierFailure: Error, Sendable {
    /// A stable machine-readable code (`check-character`, `division-code`, …).
    var code: String { get }
    /// A plain-language reason a clerk can act on.
    var reason: String { get }
    /// How far validation got before failing: 0 for the shape, 1 for the structure, 2 for the
    /// check character. Used to guess which kind of identifier an unlabeled value was meant to be.
    var stage: Int { get }
}

extension StringProtocol {
    /// The string without leading and trailing white space (including full-width spaces, common
    /// in data typed on Chinese keyboards).
    public func trimmingWhitespace() -> String {
        let whole = String(self)
        // Fast path, on the bytes: most values have nothing to trim.
        let untouched = whole.withUTF8Bytes { !$0.isEmpty && !$0.startsWithWhiteSpace && !$0.endsWithWhiteSpace }
        if untouched { return whole }
        var s = Substring(whole)
        while let f = s.unicodeScalars.first, f.isWhiteSpace { s = Substring(s.unicodeScalars.dropFirst()) }
        while let l = s.unicodeScalars.last, l.isWhiteSpace { s = Substring(s.unicodeScalars.dropLast()) }
        return String(s)
    }

    /// The string with ASCII letters upper-cased and nothing else changed (identifiers.md):
    /// Unicode upper-casing would turn one character into two (`ﬀ` into `FF`) and let a value of
    /// the wrong length pass.
    public func asciiUppercased() -> String {
        let whole = String(self)
        guard whole.withUTF8Bytes({ $0.contains { $0 >= 0x61 && $0 <= 0x7A } }) else { return whole }
        return String(decoding: whole.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }
}

extension Unicode.Scalar {
    /// Unicode's White_Space property (PropList.txt), by value: consulting the property tables
    /// for the first and last character of every field of every record cost more than the
    /// rest of the check.
    var isWhiteSpace: Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
