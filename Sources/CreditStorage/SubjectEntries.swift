/// A record's subject-index entries (Articles 19 and 33): a subject key and the role it is filed
/// under, in one TEXT column of the record's row.
///
/// Both stores keep the entries with the record (as "key<TAB>role" lines), so that a new version
/// removes the entries it no longer has without an index of the subject index by record.
public struct SubjectEntries: Equatable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var key: String
        public var role: String

        public init(key: String, role: String) {
            self.key = key
            self.role = role
        }
    }

    /// The entries in order; an entry without a key (a person with no identifier) is not filed.
    public private(set) var entries: [Entry]

    public init(_ entries: [Entry]) {
        self.entries = entries.filter { !$0.key.isEmpty }
    }

    /// The entries of a stored column.
    public init(column: String) {
        self.init(column.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 ? Entry(key: String(parts[0]), role: String(parts[1])) : nil
        })
    }

    /// The column to store.
    public var column: String { entries.map { "\($0.key)\t\($0.role)" }.joined(separator: "\n") }

    /// What going from these entries to `new` removes from the index and adds to it.
    public func changes(to new: SubjectEntries) -> (removed: [Entry], added: [Entry]) {
        (entries.filter { !new.entries.contains($0) }, new.entries.filter { !entries.contains($0) })
    }
}
