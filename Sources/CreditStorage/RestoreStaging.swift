import Foundation

/// The files `creditsync restore` makes beside a store, and the check a daemon makes against
/// a restore that died part way.
///
/// A restore builds the new store beside the old one as `STORE.restoring` (a hub's with
/// `STORE.restoring-evidence`), moves the old files aside to `STORE.before-restore…`, moves the
/// new ones into place with the database file last, and only then removes the old ones. A
/// restore killed or cut off by a power loss at any step leaves a `STORE.restoring…` file
/// behind, or the old files aside with no database in place. A daemon started then could open
/// no store at all and begin an empty one, whose log would fork from what the hub holds of it,
/// or a new database file beside the old one's write-ahead log. It refuses instead
/// (``checkNoInterruptedRestore(database:)``), and running the same restore again finishes it.
public enum RestoreStaging {
    /// Where the new store is built: `STORE.restoring`.
    public static func staging(for database: String) -> String { database + ".restoring" }

    /// Where the old store's files wait until the new one opens: `STORE.before-restore`.
    public static func aside(for database: String) -> String { database + ".before-restore" }

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
                : " The old store is no longer in place."
            return "the store \(database) is part way through a restore that was interrupted (\(files) left beside it); "
                + "run `creditsync restore --backup BACKUP --db \(database)` again with the same backup to finish it."
                + keep
        }
    }

    /// Throws ``Interrupted`` when a restore of the store at `database` died part way (the type's
    /// discussion says why a daemon must not open it then). A restore that finished, or one that
    /// never began, leaves nothing to find.
    public static func checkNoInterruptedRestore(database: String) throws(Interrupted) {
        let url = URL(fileURLWithPath: database)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let staged = names.filter { $0.hasPrefix(name + ".restoring") }.sorted()
        let moved = names.filter { $0.hasPrefix(name + ".before-restore") }.sorted()
        let inPlace = FileManager.default.fileExists(atPath: database)
        // Old files aside with the database in place are what a finished restore had yet to
        // remove: the new store is whole.
        guard !staged.isEmpty || (!moved.isEmpty && !inPlace) else { return }
        throw Interrupted(database: database, leftBehind: (staged + moved).map { directory + "/" + $0 },
                          oldStoreInPlace: inPlace && moved.isEmpty)
    }
}
