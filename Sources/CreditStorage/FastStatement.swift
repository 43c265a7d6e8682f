public import Foundation
public import GRDB
import GRDBSQLite

/// A cached GRDB statement bound and stepped through SQLite's C API.
///
/// The merge at the hub and the batch write at the node run a handful of statements per record,
/// tens of thousands of times a second. GRDB's `StatementArguments` box every value in an array
/// of `DatabaseValue`s and its rows copy columns into dictionaries; at that rate the boxing costs
/// more than SQLite does. This type binds values straight into the prepared statement instead.
/// It is only for statements run inside a GRDB transaction on the writer, where GRDB still owns
/// the connection, the transaction and the statement cache.
public struct FastStatement {
    private let handle: OpaquePointer
    private let db: Database

    /// Wraps `db`'s cached statement for `sql`, reset and with no bindings.
    public init(_ db: Database, _ sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        self.db = db
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `values` to the parameters 1, 2, … in order (a parameter pack: no array, no boxing).
    public func bind<each V: FastBindable>(_ values: repeat each V) {
        var index: Int32 = 0
        for value in repeat each values {
            index += 1
            value.bind(to: handle, at: index)
        }
    }

    /// Runs a statement that returns no rows.
    public func run() throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// Steps to the next row; `false` when there is none (the statement is then reset).
    public func next() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: sqlite3_reset(handle); return false
        case let code: sqlite3_reset(handle); throw error(code)
        }
    }

    /// Rows changed by the last statement run on the connection.
    public var changes: Int { Int(sqlite3_changes(sqlite3_db_handle(handle))) }

    /// Resets the statement after the rows wanted were read.
    public func finish() { sqlite3_reset(handle) }

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: p)
    }
    public func blob(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: p, count: count)
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))),
                      sql: sqlite3_sql(handle).map { String(cString: $0) })
    }
}

/// A value ``FastStatement`` can bind.
public protocol FastBindable {
    func bind(to statement: OpaquePointer, at index: Int32)
}

/// SQLite copies what it is given (`SQLITE_TRANSIENT`), so the buffers only need to live for the call.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension Int64: FastBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) { sqlite3_bind_int64(statement, index, self) }
}

extension String: FastBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) {
        var text = self
        text.withUTF8 { utf8 in
            _ = sqlite3_bind_text(statement, index, UnsafeRawPointer(utf8.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                .assumingMemoryBound(to: CChar.self), Int32(utf8.count), transient)
        }
    }
}

extension Data: FastBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) {
        withUnsafeBytes { raw in _ = sqlite3_bind_blob(statement, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient) }
    }
}

extension Array: FastBindable where Element == UInt8 {
    public func bind(to statement: OpaquePointer, at index: Int32) {
        withUnsafeBytes { raw in _ = sqlite3_bind_blob(statement, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient) }
    }
}
