public import Foundation
public import CreditCore
import GRDB
public import SyncProtocol

/// A node as the registry lists it.
public struct NodeEntry: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var status: String
    public var keys: [String]
    public var revokedKeys: [String]
    /// The catalog items whose new records the node receives; `nil` is every item.
    public var subscription: [String]?
}

/// Why a registry change was refused.
public struct RegistryError: Error, CustomStringConvertible {
    public var description: String
}

extension HubStore {
    /// Enrolls a node with its public key (`creditsync hub node add`). Idempotent: enrolling a
    /// node again with a key it already holds active changes nothing and returns `false`; with
    /// another key it is refused (rotate-key adds one).
    @discardableResult
    public func addNode(id: String, name: String, key: VerifyingKey, at: Date) throws -> Bool {
        guard id.count == 6, id.allSatisfy(\.isNumber) else { throw RegistryError(description: "a node id is its six-digit division code, not '\(id)'") }
        return try writer.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM node WHERE id = ?", arguments: [id]) == true {
                let holds = try Bool.fetchOne(db, sql: "SELECT 1 FROM node_key WHERE node = ? AND key_id = ? AND status = 'active'",
                                              arguments: [id, key.keyId]) == true
                if holds { return false }
                throw RegistryError(description: "node \(id) is already enrolled with another key; use rotate-key to add a key")
            }
            try db.execute(sql: "INSERT INTO node(id, name, status, added_at, log_frontier) VALUES (?, ?, 'active', ?, ?)",
                           arguments: [id, name, Self.millis(at), Data(MerkleFrontier().encoded)])
            try Self.insertKey(db, node: id, key: key, at: at)
            try Self.recordAdmin(db, "node-add", target: id, detail: "\(name), key \(key.keyId)", at: at)
            return true
        }
    }

    /// Adds a key to a node (a rollover); with `revokeOthers`, the node's other keys are revoked.
    public func rotateKey(node: String, key: VerifyingKey, revokeOthers: Bool, at: Date) throws {
        try writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM node WHERE id = ?", arguments: [node]) == true else {
                throw RegistryError(description: "no node \(node)")
            }
            if revokeOthers {
                try db.execute(sql: "UPDATE node_key SET status = 'revoked', revoked_at = ? WHERE node = ? AND status = 'active'",
                               arguments: [Self.millis(at), node])
            }
            try Self.insertKey(db, node: node, key: key, at: at)
            try Self.recordAdmin(db, "node-rotate-key", target: node, detail: "key \(key.keyId)\(revokeOthers ? ", others revoked" : "")", at: at)
        }
    }

    static func insertKey(_ db: Database, node: String, key: VerifyingKey, at: Date) throws {
        if let owner = try String.fetchOne(db, sql: "SELECT node FROM node_key WHERE key_id = ?", arguments: [key.keyId]) {
            guard owner == node else { throw RegistryError(description: "key \(key.keyId) is already enrolled for node \(owner)") }
            try db.execute(sql: "UPDATE node_key SET status = 'active', revoked_at = NULL WHERE key_id = ?", arguments: [key.keyId])
            return
        }
        try db.execute(sql: "INSERT INTO node_key(key_id, node, public_key, status, added_at) VALUES (?, ?, ?, 'active', ?)",
                       arguments: [key.keyId, node, Data(key.raw), millis(at)])
    }

    /// Revokes a node (all its pushes are refused) or one of its keys. Running it again changes
    /// nothing: the revocation keeps its first time, and the admin log its one entry.
    /// - Returns: whether it revoked anything (`false`: already revoked).
    @discardableResult
    public func revoke(node: String, keyId: String? = nil, at: Date) throws -> Bool {
        try writer.write { db in
            let status = keyId == nil
                ? try String.fetchOne(db, sql: "SELECT status FROM node WHERE id = ?", arguments: [node])
                : try String.fetchOne(db, sql: "SELECT status FROM node_key WHERE key_id = ? AND node = ?", arguments: [keyId, node])
            guard let status else { throw RegistryError(description: keyId.map { "node \(node) has no key \($0)" } ?? "no node \(node)") }
            guard status != "revoked" else { return false }
            if let keyId {
                try db.execute(sql: "UPDATE node_key SET status = 'revoked', revoked_at = ? WHERE key_id = ? AND node = ?",
                               arguments: [Self.millis(at), keyId, node])
            } else {
                try db.execute(sql: "UPDATE node SET status = 'revoked' WHERE id = ?", arguments: [node])
                // A revoked node no longer holds windows open: those only it was behind close now.
                try Self.closeWindows(db, at: Self.millis(at), positions: 0...Int64.max)
            }
            try Self.recordAdmin(db, "node-revoke", target: node, detail: keyId.map { "key \($0)" } ?? "the node", at: at)
            return true
        }
    }

    /// Sets the catalog items whose new records `node` receives from now on (``NodeSubscription``).
    public func subscribe(node: String, to subscription: NodeSubscription) throws {
        try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT subscription FROM node WHERE id = ?", arguments: [node]) else {
                throw RegistryError(description: "no node \(node)")
            }
            // The same subscription again changes nothing, and adds nothing to the admin log.
            guard (row[0] as String?) != subscription.stored else { return }
            try db.execute(sql: "UPDATE node SET subscription = ? WHERE id = ?", arguments: [subscription.stored, node])
            try Self.recordAdmin(db, "node-subscribe", target: node, detail: subscription.stored ?? "all items", at: Date())
        }
    }

    /// Who runs this process, for the admin log: the invoking user under sudo, else the user.
    static var actor: String {
        let env = ProcessInfo.processInfo.environment
        return env["SUDO_USER"] ?? env["USER"] ?? env["LOGNAME"] ?? "uid \(getuid())"
    }

    /// Appends an operator's action to the admin log, in the transaction that performs it.
    static func recordAdmin(_ db: Database, _ action: String, target: String, detail: String, at: Date) throws {
        try db.execute(sql: "INSERT INTO admin_action(at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [millis(at), actor, action, target, detail])
    }

    /// Records an operator's action done outside the store (a reference file registered).
    public func recordAdminAction(_ action: String, target: String, detail: String, at: Date) throws {
        try writer.write { try Self.recordAdmin($0, action, target: target, detail: detail, at: at) }
    }

    /// The id of the admin log's newest row (0 when empty).
    public func lastAdminActionID() throws -> Int64 {
        try writer.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM admin_action") ?? 0 }
    }

    /// The admin log after row `after`, oldest first.
    public func adminActions(after: Int64, limit: Int = 100) throws -> [AdminAction] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM admin_action WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit]).map {
                AdminAction(id: $0["id"], at: Date(timeIntervalSince1970: Double($0["at"] as Int64) / 1000), actor: $0["actor"],
                            action: $0["action"], target: $0["target"], detail: $0["detail"])
            }
        }
    }

    /// Every enrolled node.
    public func nodes() throws -> [NodeEntry] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, status, subscription FROM node ORDER BY id").map { row in
                let keys = try Row.fetchAll(db, sql: "SELECT key_id, status FROM node_key WHERE node = ? ORDER BY added_at", arguments: [row["id"] as String])
                return NodeEntry(id: row["id"], name: row["name"], status: row["status"],
                                 keys: keys.filter { $0["status"] == "active" }.map { $0["key_id"] },
                                 revokedKeys: keys.filter { $0["status"] != "active" }.map { $0["key_id"] },
                                 subscription: NodeSubscription(row["subscription"] as String?).items.map { $0.sorted() })
            }
        }
    }

    /// The active keys of active nodes, as a verifier's registry.
    public func keyRegistry() throws -> KeyRegistry { try registry().keys }

    /// The registry, decoded again only when `registry_version` moved: every request a node
    /// signs is checked against it, and with a province of nodes, decoding every key for each
    /// one was a cost of its own.
    func registry() throws -> (keys: KeyRegistry, statuses: [String: String], areas: [String: [String]]) {
        try writer.read { db in
            let version = try Int64.fetchOne(try db.cachedStatement(sql: "SELECT value FROM registry_version")) ?? 0
            if let cached = registryCache.withLock({ $0 }), cached.version == version { return (cached.keys, cached.statuses, cached.areas) }
            var registry = KeyRegistry()
            for row in try Row.fetchAll(db, sql: """
                SELECT k.node, k.public_key, k.status, n.status AS node_status FROM node_key k JOIN node n ON n.id = k.node
                """) {
                let key = try VerifyingKey(raw: Array(row["public_key"] as Data))
                try registry.enroll(key, for: row["node"])
                if row["status"] != "active" || row["node_status"] != "active" { registry.revoke(keyId: key.keyId) }
            }
            let rows = try Row.fetchAll(db, sql: "SELECT id, status, areas FROM node")
            let statuses = Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as String) })
            let areas = Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, Self.areaPrefixes($0[2])) })
            registryCache.withLock { $0 = (version, registry, statuses, areas) }
            return (registry, statuses, areas)
        }
    }

    /// The providing units `node` may write records for (`Protocol/merge.md` §1).
    public func providingArea(_ node: String) throws -> ProvidingArea {
        ProvidingArea(node: node, extra: try registry().areas[node] ?? [])
    }

    static func areaPrefixes(_ column: String) -> [String] { column.split(separator: ",").map(String.init) }

    /// Widens (`add`) or narrows (`remove`) the division-code prefixes `node` may write for
    /// beyond its own area; in the admin log.
    /// - Returns: the node's area afterwards.
    @discardableResult
    public func changeArea(node: String, add: [String], remove: [String], at: Date) throws -> ProvidingArea {
        for prefix in add + remove where !ProvidingArea.isValidPrefix(prefix) {
            throw RegistryError(description: "'\(prefix)' is not a division-code prefix (2 to 6 digits)")
        }
        return try writer.write { db in
            guard let current = try String.fetchOne(db, sql: "SELECT areas FROM node WHERE id = ?", arguments: [node]) else {
                throw RegistryError(description: "no node \(node)")
            }
            var prefixes = Self.areaPrefixes(current).filter { !remove.contains($0) }
            for prefix in add where !prefixes.contains(prefix) { prefixes.append(prefix) }
            prefixes.sort()
            try db.execute(sql: "UPDATE node SET areas = ? WHERE id = ?", arguments: [prefixes.joined(separator: ","), node])
            let area = ProvidingArea(node: node, extra: prefixes)
            try Self.recordAdmin(db, "node-area", target: node, detail: area.description, at: at)
            return area
        }
    }

    /// A node's status: `active`, `revoked`, or `nil` when unknown.
    public func nodeStatus(_ id: String) throws -> String? {
        try registry().statuses[id]
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}

/// One operator action on the hub's registry or conflicts.
public struct AdminAction: Sendable, Codable, Equatable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var target: String
    public var detail: String
}
