import ArgumentParser
import CreditNode
import Foundation

/// `creditsync submit`: a clerk's upload of JSON or CSV exports to their node.
struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload JSON or double-publicity CSV exports to a node, in batches, resumably.",
        discussion: """
        Interrupted? Run the same command again: batches already answered are skipped (FILE.progress) \
        and resubmitted records are recognized as duplicates. Rejected rows are written with their \
        reasons to FILE.rejected.csv; fix them there and submit that file. An accepted record can \
        still be refused by the hub later (another node keeps it, say): `creditsync refused` lists those.
        """)

    @Option(help: "The node's URL, e.g. http://127.0.0.1:8101.")
    var node: String

    @Option(help: "A file holding the provider token (only its first line is read).")
    var tokenFile: String

    @Option(help: "Records per request.")
    var batchSize = 500

    @Argument(help: "JSON or CSV files.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one file") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).split(whereSeparator: \.isNewline).first.map(String.init) else {
            throw CommandError("cannot read a token from \(tokenFile)")
        }
        let tty = isatty(STDERR_FILENO) == 1
        var anyRejected = false
        for path in paths {
            let uploader = Uploader(nodeURL: node, token: token, batchSize: batchSize) { done, total, rejected in
                let width = 30
                let filled = total == 0 ? width : done * width / total
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                let line = "\(path) [\(bar)] \(done)/\(total) records, \(rejected) rejected"
                FileHandle.standardError.write(Data((tty ? "\r" + line : line + "\n").utf8))
            }
            let summary: Uploader.Summary
            do { summary = try await uploader.upload(path) } catch {
                if tty { FileHandle.standardError.write(Data("\n".utf8)) }
                throw CommandError("\(error) — run the same command again to resume")
            }
            if tty { FileHandle.standardError.write(Data("\n".utf8)) }
            var line = "\(path): \(summary.accepted) accepted, \(summary.duplicate) duplicate, \(summary.rejected) rejected"
            if summary.skippedRows > 0 { line += " (\(summary.skippedRows) rows already sent by an earlier run)" }
            if let rejects = summary.rejectsFile { line += "; fix the rejected rows in \(rejects)" }
            print(line)
            anyRejected = anyRejected || summary.rejected > 0
        }
        if anyRejected { throw ExitCode(1) }
    }
}
