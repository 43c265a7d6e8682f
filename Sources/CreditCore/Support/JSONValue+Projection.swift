#if canImport(Glibc)
import Glibc
#endif

/// Which members of a JSON object to keep when only a few are needed.
///
/// The hub reads the subject and the Article 33 persons out of every change it merges; building
/// the whole record for that costs more than the rest of the merge, so it parses a projection
/// instead: the members named here are built, everything else is checked and skipped.
public struct JSONProjection: Sendable, Equatable {
    /// A member kept whole (`nil`) or projected further (an object's members).
    public let members: [String: JSONProjection?]

    /// One kept member, matched on its key's UTF-8 bytes.
    struct Matcher: Sendable, Equatable {
        let key: String
        let bytes: [UInt8]
        let inner: JSONProjection?
    }

    /// ``members`` as a list to match keys against without building them: a few members, so a
    /// scan comparing lengths first beats hashing (and iterating a dictionary, which costs
    /// generic metadata lookups on every key of every object parsed).
    let matchers: [Matcher]

    public init(_ members: [String: JSONProjection?]) {
        self.members = members
        // In key order, so that equal members make equal projections.
        matchers = members.sorted { $0.key < $1.key }.map { Matcher(key: $0.key, bytes: Array($0.key.utf8), inner: $0.value) }
    }

    /// The projection keeping the dotted `paths`, e.g. `["subject", "fields.responsiblePersons"]`.
    public init(paths: [String]) {
        var members: [String: JSONProjection?] = [:]
        for path in paths {
            let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
            guard let head = parts.first else { continue }
            if parts.count == 1 {
                members[head] = .some(nil)
            } else if case let .some(.some(existing)) = members[head] {
                members[head] = .some(JSONProjection(existing.members.merging(JSONProjection(paths: [parts[1]]).members) { $1 }))
            } else if members[head] == nil {
                members[head] = .some(JSONProjection(paths: [parts[1]]))
            }
        }
        self.init(members)
    }

    /// The kept member whose key is `key` (UTF-8 bytes), if any.
    func match(_ key: UnsafeBufferPointer<UInt8>) -> Matcher? {
        for m in matchers where m.bytes.count == key.count {
            if key.isEmpty || m.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }) { return m }
        }
        return nil
    }
}

extension JSONValue {
    /// Parses one JSON text as ``parse(_:maxDepth:)`` does — the whole text is checked — but
    /// builds only the members `projection` keeps. A top-level value that is not an object is
    /// returned whole.
    public static func parse(_ bytes: [UInt8], keeping projection: JSONProjection, maxDepth: Int = 64) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipSpace()
        let value = try parser.projected(projection, depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw ParseError(offset: parser.index, reason: "unexpected text after the JSON value") }
        return value
    }
}

extension JSONValue.Parser {
    /// An object with only the projected members; any other value whole.
    mutating func projected(_ projection: JSONProjection, depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return try value(depth: depth) }
        return try object(depth: depth, keeping: projection)
    }

    /// The object at `index`: every member (`keeping` nil), or those `keeping` names — the
    /// others are checked and skipped.
    mutating func object(depth: Int, keeping projection: JSONProjection?) throws(JSONValue.ParseError) -> JSONValue {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
        index += 1
        var members: [String: JSONValue] = [:]
        members.reserveCapacity(8)
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("an object key must be a string") }
            // A projection's keys are matched on the key's bytes: a member that is skipped
            // never has its key built.
            let key: String?
            let kept: JSONProjection??
            if let projection, let content = try plainString() {
                let match = bytes.withUnsafeBufferPointer { projection.match(UnsafeBufferPointer(rebasing: $0[content])) }
                key = match?.key
                kept = match.map(\.inner)
                index = content.upperBound + 1
            } else {
                let built = try string()
                key = built
                kept = projection.map { $0.members[built] } ?? .some(nil)
            }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
            index += 1
            skipSpace()
            let member: JSONValue
            switch (key, kept) {
            case let (_?, .some(.some(inner))): member = try projected(inner, depth: depth + 1)
            case (_?, .some(.none)): member = try value(depth: depth + 1)
            default: try skipValue(depth: depth + 1); member = .null
            }
            // A key twice is refused, not resolved (RFC 8259 leaves it open; two parsers that
            // keep different members would read different records from the same bytes).
            if let key, members.updateValue(member, forKey: key) != nil { throw fail("the key \"\(key)\" appears twice in one object") }
            skipSpace()
            guard index < bytes.count else { throw fail("an object is not closed") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in an object") }
            index += 1
            return .object(members)
        }
    }

    /// Checks one value and moves past it without building it.
    mutating func skipValue(depth: Int) throws(JSONValue.ParseError) {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
        guard index < bytes.count else { throw fail("the JSON text ends where a value was expected") }
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == close { index += 1; return }
            while true {
                skipSpace()
                if isObject {
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("an object key must be a string") }
                    try skipString()
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
                    index += 1
                    skipSpace()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw fail(isObject ? "an object is not closed" : "a list is not closed") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == close else { throw fail(isObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in a list") }
                index += 1
                return
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): _ = try literal("true", .null)
        case UInt8(ascii: "f"): _ = try literal("false", .null)
        case UInt8(ascii: "n"): _ = try literal("null", .null)
        default: try skipNumber()
        }
    }

    /// Moves past a string, checking it as ``string()`` does, without building it when it has no escapes.
    mutating func skipString() throws(JSONValue.ParseError) {
        if let content = try plainString() {
            index = content.upperBound + 1
            return
        }
        _ = try string()
    }

    /// Moves past a number, checking its grammar.
    mutating func skipNumber() throws(JSONValue.ParseError) {
        func digits() -> Int {
            let s = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            return index - s
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 else { throw fail("unexpected text where a value was expected") }
        if bytes[index] == 48 { index += 1 } else { _ = digits() }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("a number needs digits after the decimal point") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("a number's exponent needs digits") }
        }
    }
}
