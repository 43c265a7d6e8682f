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
    func trimmingWhitespace() -> String {
        // Fast path: most values have nothing to trim.
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return "" }
        if !first.properties.isWhitespace && !last.properties.isWhitespace { return String(self) }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
