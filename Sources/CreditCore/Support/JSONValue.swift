/// A JSON value, for record fields whose shape the catalog (data, not code) defines.
///
/// Numbers keep their decimal text so that an amount such as `0.2` (万元, decimal(18,6)) is
/// validated and stored exactly as the provider wrote it, never rounded through `Double`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string payload, if this is a string.
    public var stringValue: String? { if case let .string(s) = self { s } else { nil } }
    /// The object payload, if this is an object.
    public var objectValue: [String: JSONValue]? { if case let .object(o) = self { o } else { nil } }
    /// The list payload, if this is a list.
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { a } else { nil } }
    /// The JSON type name, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "text"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        // Codable sees values, not the number's text: an integer decoder reads 1e-400 as 0, so a
        // number is taken only when its decimal reading agrees (and is exact as an integer).
        if let d = try? c.decode(Decimal.self) {
            if let i = try? c.decode(Int64.self), Decimal(i) == d { self = .number(String(i)); return }
            self = .number("\(d)")
            return
        }
        if (try? c.decode(Int64.self)) != nil || (try? c.decode(Double.self)) != nil {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a number outside the range JSON values keep exactly")
        }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONValue].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    /// The significant digits of a JSON number's text (its mantissa without leading zeros).
    static func significantDigits(_ number: String) -> Int {
        let mantissa = number.split(whereSeparator: { $0 == "e" || $0 == "E" }).first ?? ""
        let digits = mantissa.filter(\.isNumber).drop { $0 == "0" }
        return digits.count
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .number(n):
            if let i = Int64(n) { try c.encode(i); return }
            // Never a silent 0 or a rounded value: a number Decimal cannot hold exactly is an error.
            guard let d = Decimal(string: n), Self.significantDigits(n) <= 38 else {
                throw EncodingError.invalidValue(n, .init(codingPath: encoder.codingPath,
                                                          debugDescription: "the number \(n.prefix(40)) cannot be encoded exactly"))
            }
            try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }
}

import Foundation
