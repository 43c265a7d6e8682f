import GRDB

/// The catalog items whose new records a node receives (Article 16 shares everything
/// province-wide, so the default is every item). A county node of a single department, or a city
/// that only wants its own records back, narrows it with `creditsync hub node subscribe`.
///
/// A subscription filters `create` changes only; every change to an existing record reaches
/// every node (see ``HubStore/fanOut(node:after:limit:)``).
public struct NodeSubscription: Sendable, Equatable, CustomStringConvertible {
    /// The items, or `nil` for every item.
    public var items: Set<String>?

    public static let all = NodeSubscription(items: nil)

    public init(items: Set<String>?) {
        self.items = items
    }

    /// From the stored column: `NULL` is every item, otherwise comma-separated item ids.
    init(_ stored: String?) {
        items = stored.map { Set($0.split(separator: ",").map(String.init)) }
    }

    /// The stored column, sorted so that equal subscriptions store equally.
    var stored: String? { items.map { $0.sorted().joined(separator: ",") } }

    /// Whether a hub-log entry of `item` with `operation` goes to the node.
    func receives(item: String, operation: String) -> Bool {
        guard let items, operation == "create" else { return true }
        return items.contains(item)
    }

    /// ``receives(item:operation:)`` as an SQL condition on `hub_log` rows, bound to ``stored``
    /// twice (``receivesArguments``).
    static let receivesSQL = "(? IS NULL OR operation != 'create' OR instr(',' || ? || ',', ',' || item || ',') > 0)"
    var receivesArguments: StatementArguments { [stored, stored] }

    public var description: String { items.map { $0.sorted().joined(separator: ",") } ?? "all" }
}

extension Database {
    func subscription(node: String) throws -> NodeSubscription {
        NodeSubscription(try String.fetchOne(try cachedStatement(sql: "SELECT subscription FROM node WHERE id = ?"), arguments: [node]))
    }
}
