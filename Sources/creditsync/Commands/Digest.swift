import ArgumentParser
import CreditStorage
import Foundation

/// `creditsync digest`: one line an operator compares between any node and the hub.
struct Digest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the state digest of a node's or the hub's store (Protocol/merge.md §5).",
        discussion: """
        Reads the store read-only, so the daemon may be running. A node that receives every item and \
        has applied the hub's fan-out to its end prints the hub's digest.
        """)

    @Option(help: "The store (a node's or the hub's SQLite file).") var db: String
    @Flag(help: "One JSON object instead of the line.") var json = false
    @Flag(help: "Also print the digest's lines (one per record, sorted), to diff two stores whose digests differ.") var lines = false

    func run() async throws {
        guard FileManager.default.fileExists(atPath: db) else { throw CommandError("no store at \(db)") }
        let (digest, records): (String, Int)
        do { (digest, records) = try StateDigest.compute(path: db) } catch { throw CommandError("cannot read \(db): \(error)") }
        print(json ? #"{"digest":"\#(digest)","records":\#(records),"store":"\#(db)"}"# : "\(digest)  \(records) records  \(db)")
        if lines {
            for line in try StateDigest.lines(path: db) { print(line) }
        }
    }
}
