public import Foundation

/// Reads the daemons' configuration files: JSON in which a line whose first non-blank characters
/// are `//` is a comment, so that a sample configuration can explain every setting. Relative
/// paths in a file are relative to the file's directory.
public enum ConfigFile {
    /// Why a configuration file was refused.
    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "configuration \(path): \(reason)" }
    }

    /// Decodes `T` from the file at `path`.
    public static func load<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Failure(path: path, reason: error.localizedDescription)
        }
        let json = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).hasPrefix("//") ? "" : String($0) }
            .joined(separator: "\n")
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw Failure(path: path, reason: "missing setting \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw Failure(path: path, reason: "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch {
            throw Failure(path: path, reason: "not valid JSON: \(error)")
        }
    }

    /// `path` resolved against the directory of the configuration file `base`.
    public static func resolve(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: base).deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL.path
    }
}
