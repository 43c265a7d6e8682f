import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

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
                let (_, store) = try openHubStore(configPath: config)
                try store.recordAdminAction("reference-add", target: target.lastPathComponent,
                                            detail: "sha256 \(Hash32.sha256(Array(data)).hex.prefix(16))…", at: Date())
            }
            // Check that everything loads together before the hub picks it up.
            do { _ = try ReferenceData.load(overlays: overlays) } catch { throw CommandError("the data no longer loads: \(error)") }
        }
    }
}
