import Foundation

/// The files `creditsync restore` makes beside a store, and the check a daemon makes against
/// a restore that died part way.
///
/// A restore builds the new store beside the old one as `STORE.restoring` (a hub's with
/// `STORE.restoring-evidence`), writes `STORE.restoring-swap`, moves the old files aside to
/// `STORE.before-restore…`, moves the new ones into place with the database file last, removes
/// the marker once the new store opens and checks, and only then removes the old ones. A
/// restore killed or cut off by a power loss at any step before leaves a `STORE.restoring…`
/// file behind. A daemon started then could open
/// no store at all and begin an empty one, whose log would fork from what the hub holds of it,
/// or a new database file beside the old one's write-ahead log. It refuses instead
/// (``checkNoInterruptedRestore(database:)``), and running the same restore again finishes it.
public enum RestoreStaging {
    /// Where the new store is built: `STORE.restoring`.
    public static func staging(for database: String) -> String { database + ".restoring" }

    /// Where the old store's files wait until the new one opens: `STORE.before-restore`.
    public static func aside(for database: String) -> String { database + ".before-restore" }

    /// The file that says a swap is under way, `STORE.restoring-swap`: from before the old
    /// store's first file moves aside until the new store has opened and checked, every file
    /// aside is the old store's, and a restore run again puts them back before anything else.
    public static func swapMarker(for database: String) -> String { database + ".restoring-swap" }

    /// A store that an interrupted restore left part way.
    public struct Interrupted: Error, CustomStringConvertible {
        /// The store.
        public var database: String
        /// The files the restore left beside it.
        public var leftBehind: [String]
        /// Whether the old store is still whole in place: the restore died before it moved any
        /// of the old files.
        public var oldStoreInPlace: Bool

        public var description: String {
            let files = leftBehind.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
            let keep = oldStoreInPlace
                ? " The restore died before it moved the old store: to keep the old store instead, remove \(files)."
                : ""
            return "the store \(database) is part way through a restore that was interrupted (\(files) left beside it); "
                + "run `creditsync restore --backup BACKUP --db \(database)` again with the same backup to finish it."
                + keep
        }
    }

    /// A store's files, its database file last: a hub's evidence (`STORE-evidence`, CreditHub's
    /// `EvidenceLog`), SQLite's shared memory and write-ahead log, and the database. A restore
    /// moves them in this order, so that a database file in place never meets another store's
    /// log, and while it is not yet in place the daemons refuse the store.
    public static func files(of base: String) -> [String] { [base + "-evidence", base + "-shm", base + "-wal", base] }

    /// Throws ``Interrupted`` when a restore of the store at `database` died part way (the type's
    /// discussion says why a daemon must not open it then). A restore that finished, or one that
    /// never began, leaves nothing to find.
    public static func checkNoInterruptedRestore(database: String) throws(Interrupted) {
        let exists = { (path: String) in FileManager.default.fileExists(atPath: path) }
        let marker = swapMarker(for: database)
        let staged = (files(of: staging(for: database)) + [marker]).filter(exists)
        let moved = files(of: aside(for: database)).filter(exists)
        let inPlace = exists(database)
        // Old files aside with the database in place are what a finished restore had yet to
        // remove: the new store is whole.
        guard !staged.isEmpty || (!moved.isEmpty && !inPlace) else { return }
        throw Interrupted(database: database, leftBehind: staged + moved, oldStoreInPlace: inPlace && moved.isEmpty && !staged.contains(marker))
    }
}
