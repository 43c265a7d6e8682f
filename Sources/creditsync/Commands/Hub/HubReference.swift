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
            // Every file is checked, and everything loaded together with them, before one is
            // written: a refused file leaves the hub's data as it was.
            var placed: [(data: Data, relative: String, said: String)] = []
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                if let layer = try? Catalog.decodeLayer(data, source: file), layer.format == CatalogLayer.currentFormat {
                    var layers = current.catalog.layers.filter { $0.id != layer.id }
                    layers.append(layer)
                    do { _ = try Catalog(layers: layers) } catch { throw CommandError("\(file) is refused: \(error)") }
                    placed.append((data, "catalog/\(layer.layer.rawValue)-\(layer.id).json",
                                   "catalog layer \(layer.id)@\(layer.version) (\(layer.items.count) items)"))
                } else if let holidays = try? HolidayFile.decode(data, source: file) {
                    placed.append((data, "calendar/holiday-cn-\(holidays.year).json", "holiday file for \(holidays.year) (\(holidays.days.count) days)"))
                } else {
                    throw CommandError("\(file) is neither a catalog layer nor a holiday file")
                }
                // The catalog refuses layer ids that are not plain names; the target must still be
                // inside the data directory, whatever the file said.
                let target = dir.appendingPathComponent(placed.last!.relative)
                guard target.standardizedFileURL.path.hasPrefix(dir.standardizedFileURL.path + "/") else {
                    throw CommandError("\(file) names a place outside the data directory; refused")
                }
            }
            // The data as the hub will load it: the first directory as it will be, with the new
            // files in it, then the others (a later directory's file of the same name still wins).
            let staged = FileManager.default.temporaryDirectory.appendingPathComponent("creditsync-reference-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: staged) }
            if FileManager.default.fileExists(atPath: dir.path) { try FileManager.default.copyItem(at: dir, to: staged) }
            for p in placed {
                let url = staged.appendingPathComponent(p.relative)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
                try p.data.write(to: url)
            }
            do { _ = try ReferenceData.load(overlays: [staged] + overlays.dropFirst()) } catch {
                throw CommandError("refused, nothing was registered: with these files the data would not load: \(error)")
            }
            // The store that records each registration is opened before anything is written.
            let (_, store) = try openHubStore(configPath: config)
            for p in placed {
                let target = dir.appendingPathComponent(p.relative)
                do {
                    try Self.writeReadable(p.data, to: target, inside: dir)
                } catch {
                    throw CommandError("cannot write \(target.path): \(error). The hub's data directory is \(dir.path); run this as a "
                                       + "user who may write it (root for /etc/creditsync/hub/data in the shipped layout)")
                }
                try store.recordAdminAction("reference-add", target: target.lastPathComponent,
                                            detail: "sha256 \(Hash32.sha256(Array(p.data)).hex.prefix(16))…", at: Date())
                print("\(p.said) registered: \(target.path); the hub takes it up within a minute, the nodes within minutes")
            }
        }

        /// Writes `data` at `url` readable by everyone, whatever the umask: reference data is
        /// public (a catalog, a State Council notice), and the hub's user must read what root
        /// wrote; a directory made for it is likewise open to read. The file is written under a
        /// hidden name, made readable, then renamed into place: the hub, which re-reads the
        /// directory every 30 s, never sees it part written or private. A folder that leads
        /// outside `dir` (a symbolic link) is refused.
        static func writeReadable(_ data: Data, to url: URL, inside dir: URL) throws {
            let fm = FileManager.default
            let folder = url.deletingLastPathComponent()
            if !fm.fileExists(atPath: folder.path) {
                try fm.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
            }
            guard folder.resolvingSymlinksInPath().path.hasPrefix(dir.resolvingSymlinksInPath().path + "/") else {
                throw CommandError("\(folder.path) leads outside the data directory (a symbolic link); refused")
            }
            let hidden = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).part")
            guard fm.createFile(atPath: hidden.path, contents: data) else { throw CommandError("cannot create \(hidden.path)") }
            do {
                try fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: hidden.path)
                guard rename(hidden.path, url.path) == 0 else { throw CommandError(String(cString: strerror(errno))) }
            } catch {
                try? fm.removeItem(at: hidden)
                throw error
            }
        }
    }
}
