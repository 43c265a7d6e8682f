import Foundation
import CreditCore

/// Reads the daemons' configuration files: JSON in which a line whose first non-blank characters
/// are `//` is a comment, so that a sample configuration can explain every setting. Relative
/// paths in a file are relative to the file's directory.
public enum ConfigFile {
    /// Why a configuration file was refused.
    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "configuration \(path): \(reason)" }

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Decodes `T` from the file at `path`, strictly: a JSON syntax error names its line and
    /// column, and a setting `T` does not have names its key path and line, so that a misspelled
    /// `clientCa` cannot start a hub without the client verification `clientCA` asks for.
    public static func load<T: Codable>(_ type: T.Type, from path: String) throws -> T {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Failure(path: path, reason: error.localizedDescription)
        }
        // `//` lines are comments: blanked, so that lines and columns stay those of the file.
        let json = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).hasPrefix("//") ? "" : String($0) }
            .joined(separator: "\n")
        let bytes = Array(json.utf8)
        let tree: JSONValue
        do { tree = try JSONValue.parse(bytes) } catch {
            let (line, column) = position(of: error.offset, in: bytes)
            throw Failure(path: path, reason: "not valid JSON at line \(line), column \(column): \(error.reason)")
        }
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            let name = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            // A setting missing because it is misspelt: name the spelling given, and its line.
            var object = tree
            for step in context.codingPath { object = object.objectValue?[step.stringValue] ?? .null }
            if let given = object.objectValue?.keys.first(where: { $0.lowercased() == key.stringValue.lowercased() }) {
                let line = lineOf(key: given, in: json)
                throw Failure(path: path, reason: "unknown setting '\(given)'\(line.map { " on line \($0)" } ?? ""): it should be spelt '\(key.stringValue)'")
            }
            throw Failure(path: path, reason: "missing setting \(name)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw Failure(path: path, reason: "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            // Foundation reports a number its type cannot hold (1.5 for a count) with no path
            // and "not valid JSON"; the underlying error names the number.
            let setting = context.codingPath.map(\.stringValue).joined(separator: ".")
            let detail = context.underlyingError.map { " (\($0))" } ?? ""
            throw Failure(path: path, reason: setting.isEmpty
                ? "a setting holds a value of the wrong kind, such as a fraction where a whole number belongs\(detail)"
                : "\(setting): \(context.debugDescription)\(detail)")
        } catch {
            throw Failure(path: path, reason: "\(error)")
        }
        // What was understood, written back: a setting given (not null) but not in it is unknown.
        let understood = (try? JSONValue.parse(Array(JSONEncoder().encode(value)))) ?? .null
        if let unknown = unknownKey(tree, understood, path: []) {
            let name = unknown.joined(separator: ".")
            let line = lineOf(key: unknown.last!, in: json)
            throw Failure(path: path, reason: "unknown setting '\(name)'\(line.map { " on line \($0)" } ?? "") (a misspelling? see Deploy/config/)")
        }
        return value
    }

    /// The first key path given in `given` that `understood` lacks.
    static func unknownKey(_ given: JSONValue, _ understood: JSONValue, path: [String]) -> [String]? {
        switch (given, understood) {
        case let (.object(g), .object(u)):
            for key in g.keys.sorted() {
                guard let value = g[key], value != .null else { continue }
                guard let known = u[key] else { return path + [key] }
                if let deeper = unknownKey(value, known, path: path + [key]) { return deeper }
            }
        case let (.array(g), .array(u)):
            for (i, (a, b)) in zip(g, u).enumerated() {
                if let deeper = unknownKey(a, b, path: path + ["\(i)"]) { return deeper }
            }
        default:
            break
        }
        return nil
    }

    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let before = bytes.prefix(max(0, min(offset, bytes.count)))
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let column = before.count - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return (line, column)
    }

    static func lineOf(key: String, in text: String) -> Int? {
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.contains("\"\(key)\"") {
            return i + 1
        }
        return nil
    }

    /// `path` resolved against the directory of the configuration file `base`.
    public static func resolve(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: base).deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL.path
    }
}
