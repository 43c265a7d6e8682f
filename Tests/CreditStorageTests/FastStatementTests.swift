import CreditStorage
import Foundation
import GRDB
import Testing

/// ``FastStatement`` binds texts and blobs from its own reused buffer (`SQLITE_STATIC`): what is
/// stored must be exactly what was bound, however the sizes change from one bind to the next.
@Suite struct FastStatementTests {
    /// A NUL inside a text goes in and comes out whole (it had been cut at the NUL on reading).
    @Test func aTextWithANulIsReadWhole() throws {
        let db = try DatabaseQueue()
        let text = "前\u{0}后\u{0}"
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t(text TEXT NOT NULL)")
            let insert = try FastStatement(db, "INSERT INTO t(text) VALUES (?)")
            insert.bind(text)
            try insert.run()
            let read = try FastStatement(db, "SELECT text FROM t")
            #expect(try read.next())
            #expect(read.text(0) == text)
            read.finish()
        }
    }

    @Test func everyBoundValueIsStoredExactlyAsBoundAcrossBufferGrowth() throws {
        let db = try DatabaseQueue()
        // Sizes that stay inside the buffer, then outgrow it twice, then shrink again; small
        // (inline) and large strings, non-ASCII text, empty values.
        let sizes = [0, 1, 15, 16, 100, 3_000, 5_000, 20_000, 7, 70_000, 0, 12]
        let rows = sizes.enumerated().map { i, n in
            (Int64(i), String(repeating: i % 2 == 0 ? "a" : "信", count: n), [UInt8]((0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }),
             Data("第\(i)条".utf8))
        }
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, text TEXT NOT NULL, bytes BLOB NOT NULL, data BLOB NOT NULL)")
            let insert = try FastStatement(db, "INSERT INTO t(id, text, bytes, data) VALUES (?, ?, ?, ?)")
            for row in rows {
                insert.bind(row.0, row.1, row.2, row.3)
                try insert.run()
            }
        }
        try db.read { db in
            for row in rows {
                let stored = try #require(try Row.fetchOne(db, sql: "SELECT text, bytes, data FROM t WHERE id = ?", arguments: [row.0]))
                #expect(stored["text"] as String == row.1)
                #expect((stored["bytes"] as Data?) ?? Data() == Data(row.2))
                #expect(stored["data"] as Data == row.3)
            }
        }
    }

    @Test func aStatementReadBackBindsAndStepsThroughRows() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t(key TEXT PRIMARY KEY, n INTEGER NOT NULL)")
            let insert = try FastStatement(db, "INSERT INTO t(key, n) VALUES (?, ?)")
            for i in 0..<50 {
                insert.bind("key-\(i)", Int64(i))
                try insert.run()
            }
            let lookup = try FastStatement(db, "SELECT n, key FROM t WHERE key >= ? ORDER BY key LIMIT 3")
            lookup.bind("key-47")
            var found: [String] = []
            while try lookup.next() { found.append(lookup.text(1)) }
            #expect(found == ["key-47", "key-48", "key-49"])
            // The cached statement, used again through GRDB after the FastStatement is gone.
            #expect(try Int.fetchOne(db, sql: "SELECT n, key FROM t WHERE key >= ? ORDER BY key LIMIT 3", arguments: ["key-5"]) == 5)
        }
    }

    @Test func aFailingStepReportsSQLitesError() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t(key TEXT PRIMARY KEY)")
            let insert = try FastStatement(db, "INSERT INTO t(key) VALUES (?)")
            insert.bind("same")
            try insert.run()
            insert.bind("same")
            #expect(throws: DatabaseError.self) { try insert.run() }
        }
    }
}
