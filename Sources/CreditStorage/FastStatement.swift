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
    @usableFromInline let handle: OpaquePointer
    private let db: Database
    /// Where this statement's text and blob arguments are copied for SQLite to read.
    @usableFromInline let arena: BindingArena

    /// Wraps `db`'s cached statement for `sql`, reset and with no bindings.
    public init(_ db: Database, _ sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        self.db = db
        arena = BindingArena(statement)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `values` to the parameters 1, 2, … in order (a parameter pack: no array, no boxing).
    ///
    /// Texts and blobs are copied into this statement's own buffer, reused from one bind to the
    /// next, and bound with `SQLITE_STATIC`: SQLite reads them in place. Bound as
    /// `SQLITE_TRANSIENT`, SQLite allocates and frees a copy of every value through its own
    /// allocator (which takes a mutex); at a dozen values per record that was a sixth of the
    /// node writer's time. Every parameter is bound on every call.
    ///
    /// Inlinable, so that each call site is specialized for its values: called through the
    /// generic entry point, every bind looked up the pack's metadata at run time.
    @inlinable
    public func bind<each V: FastBindable>(_ values: repeat each V) {
        var bytes = 0
        for value in repeat each values { bytes += value.bindingByteCount }
        arena.reset(capacity: bytes)
        var index: Int32 = 0
        for value in repeat each values {
            index += 1
            value.bind(to: handle, at: index, arena: arena)
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
    /// The column's text, all of it: read by its length, so a NUL inside does not cut it short.
    public func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
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
    /// The bytes the value copies into the arena when bound (0 for a number).
    var bindingByteCount: Int { get }
    func bind(to statement: OpaquePointer, at index: Int32, arena: BindingArena)
}

/// One statement's buffer for the texts and blobs bound to it: SQLite reads them in place
/// (`SQLITE_STATIC`) until they are bound again.
///
/// The buffer is only reallocated at the start of a bind, after the statement's old bindings
/// are cleared, and cleared again before it is freed: SQLite never holds a pointer into memory
/// that is gone.
public final class BindingArena {
    /// Held so that GRDB cannot finalize the statement (when it empties its cache) while SQLite
    /// still points into this buffer.
    private let owner: Statement
    private let statement: OpaquePointer
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0
    private var used = 0

    init(_ owner: Statement) {
        self.owner = owner
        statement = owner.sqliteStatement
    }

    /// Makes room for `bytes` and starts over at the beginning of the buffer.
    @usableFromInline
    func reset(capacity bytes: Int) {
        used = 0
        guard bytes > capacity else { return }
        sqlite3_clear_bindings(statement)
        buffer?.deallocate()
        capacity = max(bytes, capacity * 2, 4096)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// Copies `bytes` in and returns where they are (a non-null pointer even when empty).
    public func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer {
        guard bytes.count > 0, let base = bytes.baseAddress else { return UnsafeRawPointer(bitPattern: 1)! }
        guard let buffer, used + bytes.count <= capacity else { preconditionFailure("bound more bytes than bindingByteCount announced") }
        let at = buffer + used
        at.copyMemory(from: base, byteCount: bytes.count)
        used += bytes.count
        return UnsafeRawPointer(at)
    }

    deinit {
        sqlite3_clear_bindings(statement)
        buffer?.deallocate()
    }
}

/// SQLite reads the value where it is: the arena keeps it until the next bind.
private let staticValue: sqlite3_destructor_type? = nil

extension Int64: FastBindable {
    public var bindingByteCount: Int { 0 }
    public func bind(to statement: OpaquePointer, at index: Int32, arena: BindingArena) { sqlite3_bind_int64(statement, index, self) }
}

extension String: FastBindable {
    public var bindingByteCount: Int { utf8.count }
    public func bind(to statement: OpaquePointer, at index: Int32, arena: BindingArena) {
        var text = self
        let (at, count) = text.withUTF8 { (arena.copy(UnsafeRawBufferPointer($0)), $0.count) }
        sqlite3_bind_text(statement, index, at.assumingMemoryBound(to: CChar.self), Int32(count), staticValue)
    }
}

extension Data: FastBindable {
    public var bindingByteCount: Int { count }
    public func bind(to statement: OpaquePointer, at index: Int32, arena: BindingArena) {
        let at = withUnsafeBytes { arena.copy($0) }
        sqlite3_bind_blob(statement, index, at, Int32(count), staticValue)
    }
}

extension Array: FastBindable where Element == UInt8 {
    public var bindingByteCount: Int { count }
    public func bind(to statement: OpaquePointer, at index: Int32, arena: BindingArena) {
        let at = withUnsafeBytes { arena.copy($0) }
        sqlite3_bind_blob(statement, index, at, Int32(count), staticValue)
    }
}
