public import Foundation
public import GRDB

/// Whose store a SQLite file is — `node 360100` or `hub 360000` — kept in its `meta` table.
///
/// A node's and a hub's stores have the same file names in every deployment (`node.sqlite`,
/// `hub.sqlite`), and a province keeps a backup of each of a hundred and more. A daemon started
/// on another node's store, or a restore that put one node's backup in another's place, would
/// push one node's log as another's and file its records under the wrong home. The daemon
/// claims its store when it starts (the first start writes the claim), and refuses one that
/// another claimed; `creditsync restore` refuses a backup whose owner is not the store's.
public enum StoreOwner {
    /// The `meta` key of the claim.
    public static let key = "store.owner"

    /// A store claimed by someone else.
    public struct Mismatch: Error, CustomStringConvertible {
        public var description: String
    }

    /// The claim `role id` (`node 360100`).
    public static func name(role: String, id: String) -> String { "\(role) \(id)" }

    /// The store's claim, `nil` before its daemon first started.
    public static func read(_ db: Database) throws -> String? {
        try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Claims the store at `path` for `owner`, or throws ``Mismatch`` when another has it.
    public static func claim(_ writer: any DatabaseWriter, as owner: String, path: String) throws {
        try writer.write { db in
            if let held = try read(db) {
                guard held == owner else {
                    throw Mismatch(description: "the store \(path) is \(held)'s, not \(owner)'s: was another's store or backup put in its "
                                   + "place? Point the configuration at \(owner)'s own store (or restore \(owner)'s own backup); "
                                   + "nothing was changed")
                }
                return
            }
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, ?)", arguments: [key, Data(owner.utf8)])
        }
    }
}
