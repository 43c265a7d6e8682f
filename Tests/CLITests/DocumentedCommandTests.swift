import ArgumentParser
import CreditTesting
import Foundation
import Testing
@testable import creditsync

/// Every `creditsync` command the README, the samples in `Deploy/` and `Protocol/` show,
/// parsed by the real command tree: a command a deployer copies must not end in a usage error
/// (a key-rotation step once named `--key-id` without the `--id` the command requires).
@Suite struct DocumentedCommandTests {
    /// A command as a document shows it: where, and its words after `creditsync`.
    struct Shown: CustomStringConvertible {
        var file: String
        var words: [String]
        var description: String { "\(file): creditsync \(words.joined(separator: " "))" }
    }

    static let documents: [String] = {
        let root = Fixtures.repositoryRoot
        var paths = ["README.md"]
        for folder in ["Deploy", "Protocol"] {
            let base = root.appendingPathComponent(folder)
            let found = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
            paths += found.filter { ["md", "json", "yml", "service"].contains($0.pathExtension) }
                .map { String($0.path.dropFirst(root.path.count + 1)) }
        }
        return paths.sorted()
    }()

    /// The commands of one document: inline code spans that start with `creditsync`, and the
    /// lines of its code blocks that run it (`creditsync`, `swift run creditsync`, a build path,
    /// or `$B` where the block set `B` to one), with the block's `NAME="…"` variables expanded.
    static func commands(in file: String) throws -> [Shown] {
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent(file), encoding: .utf8)
        var shown: [String] = []
        let span = try Regex(#"`((?:swift run |\.build/\w+/|/usr/local/bin/)?creditsync [^`]+)`"#)
        var inBlock = false, variables: [String: String] = [:], pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inBlock.toggle(); variables = [:]; continue }
            // A unit's command line.
            if line.hasPrefix("ExecStart=") { shown.append(String(line.dropFirst("ExecStart=".count))) }
            guard inBlock else { continue }
            var command = pending + withoutComment(line)
            pending = ""
            if command.hasSuffix("\\") { pending = String(command.dropLast()) + " "; continue }
            command = command.trimmingCharacters(in: .whitespaces)
            if let assignment = command.wholeMatch(of: #/([A-Z_]+)="?([^"]*)"?/#) {
                variables[String(assignment.1)] = String(assignment.2)
                continue
            }
            for (name, value) in variables.sorted(by: { $0.key.count > $1.key.count }) {
                command = command.replacingOccurrences(of: "$" + name, with: value)
            }
            shown.append(command)
        }
        // Inline spans, a span broken over two lines of prose read as one.
        let prose = text.replacing(#/\n\s*(//)?\s*/#, with: " ")
        shown += prose.matches(of: span).map { String($0.output[1].substring ?? "") }
        return shown.compactMap { command in
            let words = command.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let at = words.firstIndex(where: { $0 == "creditsync" || $0.hasSuffix("/creditsync") }),
                  at == 0 || (at >= 2 && words[(at - 2)..<at] == ["swift", "run"]) else { return nil }
            return Shown(file: file, words: placeholdersFilled(Array(words[(at + 1)...])))
        }
    }

    /// A shell line without its trailing `# comment`.
    static func withoutComment(_ line: String) -> String {
        guard let hash = line.range(of: " #") else { return line }
        return String(line[..<hash.lowerBound])
    }

    /// The words with optional parts (`[--counties]`) left out and elisions (`…`) given a value.
    static func placeholdersFilled(_ words: [String]) -> [String] {
        var out: [String] = [], depth = 0
        for word in words {
            if word.hasPrefix("[") { depth += 1 }
            if depth == 0 { out.append(word.replacingOccurrences(of: "…", with: "x").replacingOccurrences(of: "...", with: "x")) }
            if word.hasSuffix("]") { depth = max(0, depth - 1) }
        }
        return out
    }

    @Test func theDocumentsShowCommandsToCheck() throws {
        let all = try Self.documents.flatMap(Self.commands(in:))
        #expect(all.count >= 40, "found only \(all)")
        #expect(all.contains { $0.words.starts(with: ["hub", "node", "revoke"]) })
    }

    /// A command with options must parse as shown; a bare name (`creditsync hub node subscribe`
    /// in prose) must at least name a command.
    @Test(arguments: documents)
    func everyCommandShownParses(_ file: String) throws {
        for command in try Self.commands(in: file) {
            let named = !command.words.contains { $0.hasPrefix("--") }
            do {
                // A bare name with `--help` parses to the help of that command.
                _ = try CreditSync.parseAsRoot(named ? command.words + ["--help"] : command.words)
            } catch {
                let helped = named && CreditSync.exitCode(for: error) == .success
                #expect(helped, "\(command): \(CreditSync.message(for: error))")
            }
        }
    }
}
