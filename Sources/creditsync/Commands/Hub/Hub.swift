import ArgumentParser
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

/// `creditsync hub`: the provincial platform's daemon and its operator tools.
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Run the provincial hub, manage its node registry, report on Article 41.",
        subcommands: [HubRun.self, HubNode.self, HubReference.self, HubConflict.self, HubReport.self],
        defaultSubcommand: HubRun.self)
}

/// `creditsync hub [run] --config FILE`.
struct HubRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the hub daemon (the default subcommand).")

    @Option(help: "The hub's configuration file (see Deploy/hub.conf.json).")
    var config: String

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let settings = try ConfigFile.load(HubConfig.self, from: config)
        var logger = Logger(label: "creditsync.hub")
        logger.logLevel = logLevel
        let daemon = try HubDaemon(config: settings, configPath: config)
        logger.notice("hub \(settings.hub.id) listening on \(settings.listen.host):\(settings.listen.port); dashboard at http://\(settings.listen.host):\(settings.listen.port)/")
        try await daemon.run(logger: logger)
    }
}

/// `creditsync hub node add|list|revoke|rotate-key`.
struct HubNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Enroll, list, revoke nodes, rotate their keys, and set what they receive.",
        subcommands: [Add.self, List.self, Revoke.self, RotateKey.self, Subscribe.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enroll a node with its public key.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's six-digit division code.") var id: String
        @Option(help: "The node's name.") var name: String
        @Option(help: "The node's public key file.") var key: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            let publicKey = try KeyFile.readPublic(URL(fileURLWithPath: key))
            do { try store.addNode(id: id, name: name, key: publicKey, at: Date()) } catch { throw CommandError("\(error)") }
            print("enrolled node \(id) \(name) with key \(publicKey.keyId)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled nodes.")
        @Option(help: "The hub's configuration file.") var config: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            for n in try store.nodes() {
                print("\(n.id)\t\(n.name)\t\(n.status)\tkeys: \(n.keys.joined(separator: ","))"
                      + (n.revokedKeys.isEmpty ? "" : "\trevoked: \(n.revokedKeys.joined(separator: ","))")
                      + "\treceives: \(n.subscription?.joined(separator: ",") ?? "all")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a node, or one key of it with --key-id.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's id.") var id: String
        @Option(help: "Revoke only this key.") var keyId: String?

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            do { try store.revoke(node: id, keyId: keyId, at: Date()) } catch { throw CommandError("\(error)") }
            print(keyId.map { "revoked key \($0) of node \(id)" } ?? "revoked node \(id)")
        }
    }

    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the catalog items whose new records a node receives (every correction reaches every node).",
            discussion: "Article 16 shares everything province-wide, so a node receives every item until narrowed here; --all restores that.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's id.") var id: String
        @Option(help: "Comma-separated catalog item ids.") var items: String?
        @Flag(help: "Receive every item.") var all = false

        func validate() throws {
            guard (items != nil) != all else { throw ValidationError("give either --items or --all") }
        }

        func run() async throws {
            let (hubConfig, store) = try openHubStore(configPath: config)
            var subscription = NodeSubscription.all
            if let items {
                let wanted = Set(items.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                let overlays = (hubConfig.data ?? []).map { URL(fileURLWithPath: ConfigFile.resolve($0, relativeTo: config), isDirectory: true) }
                let catalog = try ReferenceData.load(overlays: overlays).catalog
                let unknown = wanted.filter { catalog.item($0) == nil }.sorted()
                guard unknown.isEmpty else { throw CommandError("not in the catalog: \(unknown.joined(separator: ", "))") }
                subscription = NodeSubscription(items: wanted)
            }
            do { try store.subscribe(node: id, to: subscription) } catch { throw CommandError("\(error)") }
            print("node \(id) receives new records of \(subscription)")
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Add a node's new key; the old one stays active for the rollover unless --revoke-old.")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's id.") var id: String
        @Option(help: "The new public key file.") var key: String
        @Flag(help: "Revoke the node's other keys now.") var revokeOld = false

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            let publicKey = try KeyFile.readPublic(URL(fileURLWithPath: key))
            do { try store.rotateKey(node: id, key: publicKey, revokeOthers: revokeOld, at: Date()) } catch { throw CommandError("\(error)") }
            print("node \(id) now has key \(publicKey.keyId)\(revokeOld ? "; its other keys are revoked" : "")")
        }
    }
}

/// `creditsync hub reference add`: registers a catalog supplement or a year's holiday file at the
/// hub, which distributes it to every node.
struct HubReference: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference", abstract: "Register catalog supplements and holiday files for the whole province.",
        subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a catalog layer (a city's supplement, Article 11) or a holiday file and register it.",
            discussion: "The file is copied into the hub's first data directory; the hub and then every node use it within minutes, without a restart.")

        @Option(help: "The hub's configuration file.") var config: String
        @Argument(help: "Catalog layer or holiday files (JSON).") var files: [String]

        func run() async throws {
            let settings = try ConfigFile.load(HubConfig.self, from: config)
            guard let first = settings.data?.first else {
                throw CommandError("the hub's configuration has no data directory; add one to \"data\" first")
            }
            let dir = URL(fileURLWithPath: ConfigFile.resolve(first, relativeTo: config), isDirectory: true)
            let overlays = (settings.data ?? []).map { URL(fileURLWithPath: ConfigFile.resolve($0, relativeTo: config), isDirectory: true) }
            let current = try ReferenceData.load(overlays: overlays)
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                let target: URL
                if let layer = try? Catalog.decodeLayer(data, source: file), layer.format == CatalogLayer.currentFormat {
                    var layers = current.catalog.layers.filter { $0.id != layer.id }
                    layers.append(layer)
                    do { _ = try Catalog(layers: layers) } catch { throw CommandError("\(file) is refused: \(error)") }
                    target = dir.appendingPathComponent("catalog/\(layer.layer.rawValue)-\(layer.id).json")
                    print("catalog layer \(layer.id)@\(layer.version) (\(layer.items.count) items) registered")
                } else if let holidays = try? HolidayFile.decode(data, source: file) {
                    target = dir.appendingPathComponent("calendar/holiday-cn-\(holidays.year).json")
                    print("holiday file for \(holidays.year) (\(holidays.days.count) days) registered")
                } else {
                    throw CommandError("\(file) is neither a catalog layer nor a holiday file")
                }
                // The catalog refuses layer ids that are not plain names; the target must still be
                // inside the data directory, whatever the file said.
                guard target.standardizedFileURL.path.hasPrefix(dir.standardizedFileURL.path + "/") else {
                    throw CommandError("\(file) names a place outside the data directory; refused")
                }
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: target, options: .atomic)
            }
            // Check that everything loads together before the hub picks it up.
            do { _ = try ReferenceData.load(overlays: overlays) } catch { throw CommandError("the data no longer loads: \(error)") }
        }
    }
}

/// `creditsync hub conflict list|resolve`: conflicting versions of one record from different nodes.
struct HubConflict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflict", abstract: "List conflicts between nodes' versions of a record, and mark them resolved.",
        subcommands: [List.self, Resolve.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List conflicts, unresolved first.")
        @Option(help: "The hub's configuration file.") var config: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            for c in try store.conflicts(limit: 1000) {
                let state = c.resolvedAt.map { "resolved \(ISO8601DateFormatter().string(from: $0)): \(c.resolution ?? "")" } ?? "OPEN"
                print("\(c.id)\t\(c.recordKey)\twinner \(c.winner)\tother \(c.loser)\t\(state)")
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a conflict resolved with a note (the winning version stays; a provider corrects the record if it must change).")
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The conflict's id.") var id: Int
        @Option(help: "How it was resolved, for the record.") var note: String

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            guard try store.resolveConflict(id, resolution: note, at: Date()) else { throw CommandError("no open conflict \(id)") }
            print("conflict \(id) resolved")
        }
    }
}

/// `creditsync hub report`: the Article 41 compliance report as CSV.
struct HubReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write the Article 41 compliance report (CSV) for corrections received in a period.")

    @Option(help: "The hub's configuration file.") var config: String
    @Option(help: "First day (YYYY-MM-DD, China time), inclusive.") var from: String
    @Option(help: "Last day (YYYY-MM-DD, China time), inclusive.") var to: String
    @Option(help: "Write to this file instead of standard output.") var out: String?

    func run() async throws {
        guard let first = CivilDateParse.parse(from), let last = CivilDateParse.parse(to) else {
            throw ValidationError("--from and --to are dates written YYYY-MM-DD")
        }
        let settings = try ConfigFile.load(HubConfig.self, from: config)
        let daemon = try HubDaemon(config: settings, configPath: config)
        let csv = try daemon.service.complianceReport(from: first.start, to: last.end)
        if let out { try csv.write(toFile: out, atomically: true, encoding: .utf8) } else { print(csv, terminator: "") }
    }
}

import CreditCore

enum CivilDateParse {
    static func parse(_ text: String) -> (start: Date, end: Date)? {
        guard let d = CivilDate(iso: text) else { return nil }
        return (ChinaTime.startOfDay(d), ChinaTime.endOfDay(d))
    }
}
