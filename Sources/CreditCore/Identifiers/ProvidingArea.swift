/// The providing units a node may write for (`Protocol/merge.md` §1): a node's key vouches for
/// the node, and the area says for whose records.
///
/// A unit's area is the division code in its unified social credit code (characters 3–8, the
/// registering authority's division). A node covers the units of its own division; a
/// districted-city node (`3601 00`) also covers its counties (`3601xx`), which may have no node
/// of their own. The hub operator may widen a node's area with division-code prefixes (for
/// instance `3600`, the provincial departments, through the capital's node).
///
/// Without it, the first node to create a record became its home: a compromised node could
/// create, under another city's unit, records that unit had not pushed yet, and keep them.
public struct ProvidingArea: Sendable, Equatable, CustomStringConvertible {
    /// The node: its id is its division code.
    public let node: String
    /// Division-code prefixes the hub operator added, 2 to 6 digits each.
    public let extra: [String]

    public init(node: String, extra: [String] = []) {
        self.node = node
        self.extra = extra
    }

    /// Whether a node of a districted city (`xxxx00`, not the province's `xx0000`).
    var isCity: Bool { node.count == 6 && node.hasSuffix("00") && !node.hasSuffix("0000") }

    /// Whether the node may write records whose provider is `unit`.
    public func covers(_ unit: UnifiedSocialCreditCode) -> Bool {
        covers(division: unit.divisionCode)
    }

    /// Whether the node may write for units of `division`.
    public func covers(division: String) -> Bool {
        if division == node { return true }
        if isCity, division.prefix(4) == node.prefix(4) { return true }
        return extra.contains { division.hasPrefix($0) }
    }

    /// The area in words, for refusals: "360100 and its counties (3601xx), and 3600…".
    public var description: String {
        var text = isCity ? "\(node) and its counties (\(node.prefix(4))xx)" : node
        if !extra.isEmpty { text += ", and " + extra.map { "\($0)…" }.joined(separator: ", ") }
        return text
    }

    /// Whether `prefix` can widen an area: 2 to 6 ASCII digits.
    public static func isValidPrefix(_ prefix: String) -> Bool {
        (2...6).contains(prefix.utf8.count) && prefix.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
