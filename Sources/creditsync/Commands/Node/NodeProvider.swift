import ArgumentParser
import CreditCore
import CreditData
import CreditNode
import Foundation

/// `creditsync node provider`: provider credentials (Article 21).
struct NodeProvider: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provider", abstract: "Manage the credentials providers write and read with.",
        subcommands: [Add.self, List.self, Revoke.self])

    struct Store: ParsableArguments {
        @Option(help: "The node's configuration file.")
        var config: String?

        @Option(help: "The node's store, instead of --config.")
        var db: String?

        /// The store, opened beside a running node daemon (as an operator: no lock taken).
        func open() throws -> NodeStore {
            if let db { return try NodeStore(path: db, role: .operator) }
            guard let config else { throw ValidationError("give --config FILE or --db PATH") }
            let settings = try ConfigFile.load(NodeConfig.self, from: config)
            return try NodeStore(path: ConfigFile.resolve(settings.database, relativeTo: config), role: .operator)
        }

        /// The reference data the node validates with (its overlays with --config; the bundled
        /// data with --db).
        func reference() throws -> ReferenceData {
            guard db == nil, let config else { return try ReferenceData.load() }
            return try ConfigFile.load(NodeConfig.self, from: config).reference(configPath: config)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a credential; its token is printed once and stored only hashed.")

        @OptionGroup var store: Store

        @Option(help: "Who holds it (the unit's name).")
        var name: String

        @Option(help: "The providing unit's unified social credit code.")
        var unit: String

        @Option(help: "Catalog items it may write, comma-separated, or * for all.")
        var items: String = "*"

        @Option(help: "What it may read: none, own, all, or items:a,b.")
        var read: String = "own"

        @Option(help: "The node's id, with --db: the area the unit must lie in (--config names it).")
        var node: String?

        @Flag(help: "Allow a unit outside the node's own area (the hub operator must have widened it: hub node area --add).")
        var outsideArea = false

        /// The node whose area the unit must lie in: the configuration's, or `--node` with `--db`.
        func nodeId() throws -> String {
            if store.db == nil, let config = store.config {
                let id = try ConfigFile.load(NodeConfig.self, from: config).node.id
                if let node, node != id { throw ValidationError("--node \(node) is not the node of \(config) (\(id)); --node is for --db") }
                return id
            }
            guard store.db != nil else { throw ValidationError("give --config FILE or --db PATH") }
            guard let node else {
                throw ValidationError("with --db, give --node ID (the node's id: a unit outside its area is refused), or --outside-area")
            }
            return node
        }

        func run() async throws {
            guard let scope = ReadScope(read) else { throw ValidationError("--read must be none, own, all or items:a,b") }
            let items = items == "*" ? nil : Set(items.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
            let legacy = try store.reference().legacyCreditCodes
            let code: UnifiedSocialCreditCode
            do { code = try UnifiedSocialCreditCode.parse(unit, acceptedLegacyCodes: legacy) } catch {
                throw ValidationError("--unit '\(unit)' is not a valid unified social credit code: \(error.reason)")
            }
            // The hub refuses a node's records of units outside its area (Protocol/merge.md §1):
            // said here, before a provider's writes are accepted and then refused at the hub.
            if !outsideArea {
                let node = try nodeId()
                let area = ProvidingArea(node: node)
                // A refusal, not a usage error: the code is well formed, the node may not take it.
                guard area.covers(code) else {
                    throw CommandError("--unit \(code) is of division \(code.divisionCode), outside node \(node)'s area (\(area)): "
                                          + "the hub would refuse its records. If the hub operator has widened the area "
                                          + "(creditsync hub node area --id \(node) --add …), pass --outside-area")
                }
            }
            let (id, token) = try store.open().addCredential(name: name, unit: code, writeItems: items, readScope: scope, at: Date())
            print("credential \(id) for \(name) (\(code))")
            print("token (shown once; keep it in a file only the uploader can read):")
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List credentials.")

        @OptionGroup var store: Store

        func run() async throws {
            for c in try store.open().credentials() {
                let state = c.revokedAt.map { "revoked \(ISO8601DateFormatter().string(from: $0))" } ?? "active"
                print("\(c.id)\t\(c.name)\t\(c.unit)\twrite=\(c.writeItems)\tread=\(c.readScope)\t\(state)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a credential at once.")

        @OptionGroup var store: Store

        @Argument(help: "The credential id.")
        var id: String

        func run() async throws {
            guard try store.open().revokeCredential(id, at: Date()) else { throw CommandError("no active credential \(id)") }
            print("revoked \(id)")
        }
    }
}
