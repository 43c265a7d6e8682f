public import Foundation
import Crypto
public import GRDB

/// The state digest of `Protocol/merge.md` §5: one line per record — its key, its status and,
/// when active, the SHA-256 of its content — sorted, hashed. The hub's store and every node's
/// keep their current records in a `record` table with the same three columns, so this one
/// function serves both, and an operator compares any node with the hub in one line.
public enum StateDigest {
    /// The digest of the records in `db` and how many there are.
    public static func compute(_ db: Database) throws -> (digest: String, records: Int) {
        let lines = try self.lines(db)
        var hasher = SHA256()
        for line in lines {
            hasher.update(data: line)
            hasher.update(data: [0x0A])
        }
        return (hex(Array(hasher.finalize())), lines.count)
    }

    /// The digest's lines, sorted: what to compare when two digests differ.
    public static func lines(_ db: Database) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT record_key, status, content_hash FROM record")
        while let row = try rows.next() {
            let key: String = row[0], status: String = row[1], hash: Data = row[2]
            lines.append(Array(line(key: key, status: status, contentHash: hash).utf8))
        }
        lines.sort { $0.lexicographicallyPrecedes($1) }
        return lines
    }

    /// The lines of the store at `path`, opened read-only.
    public static func lines(path: String) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path, configuration: configuration).read { try lines($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The digest of the store at `path`, opened read-only (the daemon may be running).
    public static func compute(path: String) throws -> (digest: String, records: Int) {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path, configuration: configuration).read { try compute($0) }
    }

    /// One record's line: `key TAB status [TAB hex(content hash)]`.
    public static func line(key: String, status: String, contentHash: Data) -> String {
        status == "active" ? "\(key)\t\(status)\t\(hex(Array(contentHash)))" : "\(key)\t\(status)"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
