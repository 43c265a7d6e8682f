public import Foundation

/// A direct JSON reader and writer for ``JSONValue``: RFC 8259 in, compact JSON with sorted keys
/// out. Numbers keep their text both ways, so a decimal amount is never rounded, and records are
/// parsed and written several times faster than through `Codable` (which has to try each JSON
/// type in turn for a value of unknown shape).
extension JSONValue {
    /// Why bytes are not JSON, with the byte offset.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Parses one JSON text (surrounding white space allowed, nothing else after it).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw ParseError(offset: parser.index, reason: "unexpected text after the JSON value") }
        return value
    }

    /// Parses a JSON file another system exported: a UTF-8 byte order mark before the text is
    /// skipped (RFC 8259 §8.1 lets a parser ignore one; spreadsheet tools write it), the rest is
    /// ``parse(_:maxDepth:)``. For files a person hands the tools, not for the protocol's bodies.
    public static func parseFile(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? try parse(Array(bytes.dropFirst(3))) : try parse(bytes)
    }

    /// Compact JSON with object keys sorted (by UTF-8 bytes), `/` unescaped, non-ASCII as UTF-8.
    public var serialized: String { String(decoding: serializedBytes, as: UTF8.self) }

    /// ``serialized`` as UTF-8 bytes.
    public var serializedBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    /// Appends ``serializedBytes`` to `out`: for writers that put values inside JSON of their own.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .number(n): out.append(contentsOf: n.utf8)
        case let .string(s): Self.writeString(s, into: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.sorted(by: { String.utf8Precedes($0.key, $1.key) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `s` as a JSON string (quoted, escaped as ``serialized`` escapes) to `out`.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: copied whole.
        let copied = s.withUTF8Bytes { bytes in
            if bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied {
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20: out.append(contentsOf: Array(String(format: "\\u%04x", b).utf8))
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func fail(_ reason: String) -> ParseError { ParseError(offset: index, reason: reason) }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(ParseError) -> JSONValue {
            guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
            guard index < bytes.count else { throw fail("the JSON text ends where a value was expected") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                return try object(depth: depth, keeping: nil)
            case UInt8(ascii: "["):
                index += 1
                var items: [JSONValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < bytes.count else { throw fail("a list is not closed") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in a list") }
                    index += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                return .number(try number())
            }
        }

        mutating func literal(_ word: String, _ value: JSONValue) throws(ParseError) -> JSONValue {
            let w = word.utf8
            guard index + w.count <= bytes.count, bytes[index..<index + w.count].elementsEqual(w) else { throw fail("unexpected text") }
            index += w.count
            return value
        }

        mutating func number() throws(ParseError) -> String {
            let start = index
            try skipNumber()
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if text.utf8.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }), let d = Decimal(string: text) { return "\(d)" }
            return text
        }

        mutating func string() throws(ParseError) -> String {
            // Fast path: most strings have no escapes, so they are one slice, checked as it is scanned.
            if let content = try plainString() {
                index = content.upperBound + 1
                return String(decoding: bytes[content], as: UTF8.self)
            }
            index += 1 // opening quote
            var out: [UInt8] = []
            while true {
                guard index < bytes.count else { throw fail("a string is not closed") }
                let b = bytes[index]
                switch b {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let s = Self.validUTF8(out[...]) else { throw fail("a string is not valid UTF-8") }
                    return s
                case UInt8(ascii: "\\"):
                    guard index + 1 < bytes.count else { throw fail("a string is not closed") }
                    let e = bytes[index + 1]
                    index += 2
                    switch e {
                    case UInt8(ascii: "\""): out.append(34)
                    case UInt8(ascii: "\\"): out.append(92)
                    case UInt8(ascii: "/"): out.append(47)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == 92, bytes[index + 1] == UInt8(ascii: "u") else {
                                throw fail("a lone high surrogate")
                            }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("an invalid surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw fail("an invalid escape in a string")
                    }
                case 0..<0x20: throw fail("a control character in a string")
                default:
                    out.append(b)
                    index += 1
                }
            }
        }

        /// The content of the string starting at `index` when it has no escape or control
        /// character before its closing quote (which is at the range's upper bound); `nil`
        /// otherwise. Does not move. Its UTF-8 is checked in the same pass (RFC 3629: no overlong
        /// forms, no surrogates, nothing past U+10FFFF), without building anything — most of a
        /// record's text is Chinese, and this is the loop every byte of it goes through.
        func plainString() throws(ParseError) -> Range<Int>? {
            let start = index + 1
            let result: Result<Range<Int>?, ParseError> = bytes.withUnsafeBufferPointer { buffer in
                let count = buffer.count
                var i = start
                func continuation(_ at: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
                    at < count && range.contains(buffer[at])
                }
                while i < count {
                    let b = buffer[i]
                    if b < 0x80 {
                        if b == UInt8(ascii: "\"") { return .success(start..<i) }
                        if b == UInt8(ascii: "\\") || b < 0x20 { return .success(nil) }
                        i += 1
                        continue
                    }
                    let length: Int
                    switch b {
                    case 0xC2...0xDF: length = continuation(i + 1) ? 2 : 0
                    case 0xE0: length = continuation(i + 1, 0xA0...0xBF) && continuation(i + 2) ? 3 : 0
                    case 0xE1...0xEC, 0xEE...0xEF: length = continuation(i + 1) && continuation(i + 2) ? 3 : 0
                    case 0xED: length = continuation(i + 1, 0x80...0x9F) && continuation(i + 2) ? 3 : 0
                    case 0xF0: length = continuation(i + 1, 0x90...0xBF) && continuation(i + 2) && continuation(i + 3) ? 4 : 0
                    case 0xF1...0xF3: length = continuation(i + 1) && continuation(i + 2) && continuation(i + 3) ? 4 : 0
                    case 0xF4: length = continuation(i + 1, 0x80...0x8F) && continuation(i + 2) && continuation(i + 3) ? 4 : 0
                    default: length = 0
                    }
                    guard length > 0 else { return .failure(ParseError(offset: i, reason: "a string is not valid UTF-8")) }
                    i += length
                }
                return .success(nil)
            }
            return try result.get()
        }

        /// The string of `bytes` when they are valid UTF-8. Decoding repairs invalid sequences, so a
        /// string whose bytes differ from the input was not valid; both steps run on the standard
        /// library's fast paths, unlike the generic `String(validating:as:)`.
        static func validUTF8(_ bytes: ArraySlice<UInt8>) -> String? {
            let s = String(decoding: bytes, as: UTF8.self)
            let same = s.utf8.withContiguousStorageIfAvailable { decoded in
                bytes.withUnsafeBufferPointer { input in
                    decoded.count == input.count && (input.isEmpty || memcmp(decoded.baseAddress!, input.baseAddress!, input.count) == 0)
                }
            }
            return (same ?? s.utf8.elementsEqual(bytes)) ? s : nil
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail("a \\u escape is cut short") }
            var v: UInt32 = 0
            for b in bytes[index..<index + 4] {
                let d: UInt32
                switch b {
                case 48...57: d = UInt32(b - 48)
                case 97...102: d = UInt32(b - 87)
                case 65...70: d = UInt32(b - 55)
                default: throw fail("a \\u escape needs four hex digits")
                }
                v = v << 4 | d
            }
            index += 4
            return v
        }
    }
}

extension CreditRecord {
    /// The record's canonical JSON, byte for byte ``jsonValue``'s ``JSONValue/serialized``,
    /// written directly: the top level and the subject have fixed keys, already in order, so
    /// only the fields are sorted. Every record a node accepts is written once this way.
    public var canonicalJSON: [UInt8] {
        canonicalJSON { JSONValue.object(fields).write(into: &$0) }
    }

    /// ``canonicalJSON`` with the `fields` object written by `writeFields` (which must write
    /// ``fields`` as ``JSONValue/serialized`` would).
    func canonicalJSON(fields writeFields: (inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(768)
        out.append(contentsOf: #"{"fields":"#.utf8)
        writeFields(&out)
        out.append(contentsOf: #","item":"#.utf8)
        JSONValue.writeString(item, into: &out)
        out.append(contentsOf: #","recordId":"#.utf8)
        JSONValue.writeString(recordId, into: &out)
        out.append(contentsOf: #","subject":{"#.utf8)
        if let d = subject.document {
            out.append(contentsOf: #""document":{"number":"#.utf8)
            JSONValue.writeString(d.number, into: &out)
            out.append(contentsOf: #","type":"#.utf8)
            JSONValue.writeString(d.type.rawValue, into: &out)
            out.append(contentsOf: "},".utf8)
        }
        out.append(contentsOf: #""kind":"#.utf8)
        JSONValue.writeString(subject.kind.rawValue, into: &out)
        out.append(contentsOf: #","name":"#.utf8)
        JSONValue.writeString(subject.name, into: &out)
        if let id = subject.residentId {
            out.append(contentsOf: #","residentId":"#.utf8)
            JSONValue.writeString(id, into: &out)
        }
        if let uscc = subject.uscc {
            out.append(contentsOf: #","uscc":"#.utf8)
            JSONValue.writeString(uscc, into: &out)
        }
        out.append(contentsOf: "}}".utf8)
        return out
    }

    /// The record as JSON (for canonical serialization).
    public var jsonValue: JSONValue {
        var subject: [String: JSONValue] = ["kind": .string(self.subject.kind.rawValue), "name": .string(self.subject.name)]
        if let uscc = self.subject.uscc { subject["uscc"] = .string(uscc) }
        if let id = self.subject.residentId { subject["residentId"] = .string(id) }
        if let d = self.subject.document { subject["document"] = .object(["type": .string(d.type.rawValue), "number": .string(d.number)]) }
        return .object(["item": .string(item), "recordId": .string(recordId), "subject": .object(subject), "fields": .object(fields)])
    }
}

extension JSONValue {
    /// How many records a provider's batch body holds, counted on its bytes without parsing:
    /// the elements of a top-level array, or of the array under a top-level object's member
    /// (`{"records": [...]}`); 1 for anything else. A malformed body counts whatever it seems to
    /// hold and is refused by the parser afterwards.
    public static func batchCount(_ bytes: [UInt8]) -> Int {
        var depth = 0, target = -1, elements = 0, best = 1
        var topIsArray: Bool?
        var inString = false, escaped = false, nonEmpty = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\t") { continue }
            if depth == target, b != UInt8(ascii: "]"), b != UInt8(ascii: ",") { nonEmpty = true }
            switch b {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if topIsArray == nil { topIsArray = b == UInt8(ascii: "[") }
                depth += 1
                // The array of records: the top-level array, or an array that is a member of the top-level object.
                if b == UInt8(ascii: "["), target < 0, depth == (topIsArray! ? 1 : 2) {
                    target = depth
                    elements = 0
                    nonEmpty = false
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if depth == target {
                    best = max(best, nonEmpty ? elements + 1 : 0)
                    target = -1
                }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == target { elements += 1 }
            default:
                break
            }
        }
        // A body cut off inside the array still counts what it holds.
        if target >= 0 { best = max(best, nonEmpty ? elements + 1 : elements) }
        return best
    }
}

extension JSONValue {
    /// `T` decoded from `bytes` by Foundation's decoder, once this parser has read them.
    ///
    /// A receiver of the protocol MUST refuse an object that has a key twice
    /// (`Protocol/README.md`, Conventions); Foundation's decoder silently keeps one of the two,
    /// so every document a node or the hub takes from a peer — and every reference file a hub
    /// distributes — is read here first.
    /// - Throws: ``ParseError`` for bytes that are not JSON or hold a key twice, else the
    ///   decoder's `DecodingError`.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], decoder: JSONDecoder = JSONDecoder()) throws -> T {
        _ = try parse(bytes)
        return try decoder.decode(type, from: Data(bytes))
    }
}
