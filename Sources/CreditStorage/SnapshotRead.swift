public import GRDB

extension DatabaseReader {
    /// Runs `body` in one read transaction, as GRDB's `read` does, with its `BEGIN` and `COMMIT`
    /// kept prepared on the connection.
    ///
    /// GRDB's `read` compiles `BEGIN DEFERRED TRANSACTION` and `COMMIT TRANSACTION` afresh for
    /// every read. A hub answering a province's long polls reads a few times per answer, and in
    /// a profile of that hub the statements compiled for those reads (with the pool's hand-off
    /// around them) took a tenth of its time. Every store read goes through here, so that every
    /// read sees one snapshot of the store, whatever commits meanwhile.
    ///
    /// An in-memory store (a `DatabaseQueue`, in tests) reads through GRDB's `read`, which
    /// enforces read-only: the daemons' pool readers are opened read-only, and a write slipped
    /// into a read must fail in tests as it would in production.
    public func readSnapshot<T>(_ body: (Database) throws -> T) throws -> T {
        guard !(self is DatabaseQueue) else { return try read(body) }
        return try unsafeRead { db in
            try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
            let value: T
            do {
                value = try body(db)
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            } catch {
                // GRDB's rollback does nothing when the read already ended the transaction.
                try? db.rollback()
                throw error
            }
            return value
        }
    }
}
