import GRDB

extension HubStore {
    /// The changes of `node` at sequences 1…`through` that do not have exactly one outcome of
    /// `Protocol/merge.md` §3 — logged (effective: a hub-log entry that is not a re-assertion),
    /// a route (duplicate, or a version superseded before it arrived), or a refusal row — with
    /// the number they have. Every change the hub acknowledged has one: none missing is "nothing
    /// acknowledged is lost" at the merge, none doubled is "each change applied once". The
    /// simulator checks it after every run; each table is read once, by node.
    public func changesWithoutOneOutcome(node: String, through: UInt64) throws -> [(sequence: UInt64, outcomes: Int)] {
        let counted = try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT sequence, COUNT(*) AS outcomes FROM (
                    SELECT sequence FROM hub_log WHERE node = ?1 AND reassert != 1
                    UNION ALL SELECT sequence FROM route WHERE node = ?1
                    UNION ALL SELECT sequence FROM refusal WHERE node = ?1)
                WHERE sequence BETWEEN 1 AND ?2 GROUP BY sequence
                """, arguments: [node, Int64(through)])
        }
        var outcomes = [UInt64: Int](minimumCapacity: counted.count)
        for row in counted { outcomes[UInt64(row["sequence"] as Int64)] = row["outcomes"] }
        guard through > 0 else { return [] }
        return (1...through).compactMap { sequence in
            let n = outcomes[sequence, default: 0]
            return n == 1 ? nil : (sequence, n)
        }
    }
}
