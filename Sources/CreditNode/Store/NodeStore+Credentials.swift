public import CreditCore
public import Foundation
import GRDB
import SyncProtocol

/// What a provider credential may read (Article 21: enquiries stay within the unit's authority).
public enum ReadScope: Sendable, Equatable, CustomStringConvertible {
    /// Nothing.
    case none
    /// Records its own unit provided.
    case own
    /// Records of these catalog items, whoever provided them.
    case items(Set<String>)
    /// Everything the node holds.
    case all

    /// Parses `none`, `own`, `all` or `items:a,b`.
    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "own": self = .own
        case "all": self = .all
        default:
            guard text.hasPrefix("items:") else { return nil }
            let items = Set(text.dropFirst(6).split(separator: ",").map(String.init))
            guard !items.isEmpty else { return nil }
            self = .items(items)
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .own: "own"
        case .all: "all"
        case let .items(items): "items:" + items.sorted().joined(separator: ",")
        }
    }

    /// Whether a record of `item` provided by `provider` may be read by `unit`.
    public func allows(item: String, provider: String, unit: String) -> Bool {
        switch self {
        case .none: false
        case .own: provider == unit
        case let .items(items): items.contains(item) || provider == unit
        case .all: true
        }
    }
}

/// An authenticated provider: a credential of a government unit.
public struct ProviderIdentity: Sendable, Equatable {
    public var credential: String
    public var name: String
    /// The providing unit's USCC: the first part of every record key it writes.
    public var unit: String
    /// Catalog items it may write; `nil` means every item.
    public var writeItems: Set<String>?
    public var readScope: ReadScope

    public func mayWrite(_ item: String) -> Bool { writeItems?.contains(item) ?? true }
}

/// A credential as listed to an operator (the secret is never shown again).
public struct CredentialInfo: Sendable, Codable {
    public var id: String
    public var name: String
    public var unit: String
    public var writeItems: String
    public var readScope: String
    public var createdAt: Date
    public var revokedAt: Date?
}

extension NodeStore {
    /// Adds a credential and returns its id and the bearer token, which is shown once and stored
    /// only as a hash.
    ///
    /// The unit is a parsed credit code: it becomes the provider of every record written with
    /// the credential, and the hub refuses a change whose provider is not a valid code
    /// (`Protocol/merge.md` §2). A node that took writes under an invalid one would hold records
    /// the hub never will.
    public func addCredential(name: String, unit: UnifiedSocialCreditCode, writeItems: Set<String>?, readScope: ReadScope, at: Date)
        throws -> (id: String, token: String) {
        var random = SystemRandomNumberGenerator()
        let id = "p" + String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &random))
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let secretText = Data(secret).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let token = "cs_\(id)_\(secretText)"
        try writer.write { db in
            try db.execute(sql: """
                INSERT INTO credential(id, name, unit, secret_hash, write_items, read_scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, name, unit.value, Self.hash(secretText), writeItems.map { $0.sorted().joined(separator: ",") } ?? "*",
                                 readScope.description, Int64(at.timeIntervalSince1970 * 1000)])
        }
        return (id, token)
    }

    /// Every credential, revoked ones included.
    public func credentials() throws -> [CredentialInfo] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM credential ORDER BY created_at, id").map {
                CredentialInfo(id: $0["id"], name: $0["name"], unit: $0["unit"], writeItems: $0["write_items"],
                               readScope: $0["read_scope"],
                               createdAt: Date(timeIntervalSince1970: Double($0["created_at"] as Int64) / 1000),
                               revokedAt: ($0["revoked_at"] as Int64?).map { Date(timeIntervalSince1970: Double($0) / 1000) })
            }
        }
    }

    /// Revokes a credential; its token stops working at once.
    /// - Returns: whether a live credential was revoked.
    @discardableResult
    public func revokeCredential(_ id: String, at: Date) throws -> Bool {
        try writer.write { db in
            try db.execute(sql: "UPDATE credential SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [Int64(at.timeIntervalSince1970 * 1000), id])
            return db.changesCount > 0
        }
    }

    /// The identity behind a bearer token, or `nil` when it is unknown, malformed or revoked.
    public func authenticate(token: String) throws -> ProviderIdentity? {
        let parts = token.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, parts[0] == "cs" else { return nil }
        let id = String(parts[1])
        guard let row = try writer.read({ try Row.fetchOne($0, sql: "SELECT * FROM credential WHERE id = ? AND revoked_at IS NULL", arguments: [id]) })
        else { return nil }
        guard Self.constantTimeEqual(row["secret_hash"] as Data, Self.hash(String(parts[2]))) else { return nil }
        let items: String = row["write_items"]
        return ProviderIdentity(credential: id, name: row["name"], unit: row["unit"],
                                writeItems: items == "*" ? nil : Set(items.split(separator: ",").map(String.init)),
                                readScope: ReadScope(row["read_scope"]) ?? .none)
    }

    static func hash(_ secret: String) -> Data { Hash32.sha256(Array(secret.utf8)).data }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}
