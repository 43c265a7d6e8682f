import Foundation
import GRDB
import SyncProtocol

/// A digest of everything a SQLite store holds — every row of every table, in order — and of
/// the files beside it (a hub's evidence): what the hostile-input tests compare before and after
/// each refused request, to show that refused input changed nothing. Read-only.
public enum StoreFingerprint {
    public static func of(_ path: String) throws -> String {
        var bytes: [UInt8] = []
        try read(path) { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for table in tables {
                bytes += Array("table \(table)\n".utf8)
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \"\(table)\" ORDER BY 1")
                while let row = try rows.next() { bytes += Array(row.description.utf8) }
            }
        }
        for suffix in ["-evidence"] {
            if let size = try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int {
                bytes += Array("\(suffix) \(size)".utf8)
            }
        }
        return Hash32.sha256(bytes).hex
    }

    /// The number of rows of `table` in the store at `path` (read-only).
    public static func rows(_ path: String, table: String) throws -> Int {
        try read(path) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0 }
    }

    /// Opens the store at `path` read-only for one read.
    static func read<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: path, configuration: config)
        defer { try? db.close() }
        return try db.read(body)
    }
}
