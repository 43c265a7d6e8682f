import ArgumentParser
import SyncProtocol
import SyncTransport
import CreditData
import CreditHub
import CreditNode
import Foundation

/// `creditsync check-config FILE`: a daemon's configuration checked without starting anything.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a hub's or a node's configuration file without starting anything.",
        discussion: """
            A node's file has a "node" section, a hub's does not. The files the settings name (keys, TLS files, the \
            operator token, data overlays, the store's directory) are read as the daemon reads them. Exits 0 when \
            valid, 1 with the line of the problem or the file at fault otherwise.
            """)

    @Argument(help: "The configuration file.") var file: String

    @Flag(help: "Check the settings only, not the files they name (a sample or template).") var settingsOnly = false

    func run() async throws {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let isNode = text.split(separator: "\n").contains { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") && $0.contains("\"node\"") }
        do {
            if isNode {
                let config = try ConfigFile.load(NodeConfig.self, from: file)
                _ = try config.serviceLimits(configPath: file)
                if !settingsOnly { try await checkFiles(config) }
                print("valid node configuration for \(config.node.id) \(config.node.name)")
            } else {
                let config = try ConfigFile.load(HubConfig.self, from: file)
                _ = try config.bodySeconds(configPath: file)
                if !settingsOnly { try checkFiles(config) }
                print("valid hub configuration for \(config.hub.id)\(config.tls == nil ? "" : ", " + config.transportSecurity)")
            }
        } catch {
            throw CommandError("\(error)")
        }
    }

    func path(_ name: String) -> String { ConfigFile.resolve(name, relativeTo: file) }

    /// What the hub reads when it starts, read the same way: its key (mode 0600), reference
    /// overlays, operator token, TLS files, and the store's directory.
    func checkFiles(_ config: HubConfig) throws {
        _ = try KeyFile.readPrivate(URL(fileURLWithPath: path(config.signingKey)))
        _ = try ReferenceData.load(overlays: config.overlays(configPath: file))
        _ = try config.operatorToken(configPath: file)
        _ = try config.serverTLS(configPath: file)
        try checkDirectory(of: config.database)
    }

    /// What a node reads when it starts, read the same way (``HubLink``, ``NodeConfig/reference(configPath:)``).
    func checkFiles(_ config: NodeConfig) async throws {
        let link = try HubLink(config: config, configPath: file)
        try? await link.ownedClient?.shutdown()
        _ = try config.reference(configPath: file)
        try checkDirectory(of: config.database)
    }

    /// The store's directory exists and this user may write in it. Under /var/lib/creditsync the
    /// shipped units' `StateDirectory=` makes it at the first start, so its absence there before
    /// then is a note, not a fault: the check is run before the first start, as the README says.
    func checkDirectory(of database: String) throws {
        let directory = URL(fileURLWithPath: path(database)).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            let make = "install -d -o creditsync -g creditsync -m 0700 \(directory)"
            guard directory.hasPrefix("/var/lib/creditsync/") || directory == "/var/lib/creditsync" else {
                throw CommandError("the store's directory \(directory) does not exist: create it for the user the daemon runs as (\(make))")
            }
            printError("note: the store's directory \(directory) does not exist yet; the shipped unit's StateDirectory= creates it "
                       + "at the first start (without the unit: \(make))")
            return
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw CommandError("the store's directory \(directory) is not writable by this user: the store belongs to the user the "
                               + "daemon runs as (run check-config as that user, and chown the directory to it)")
        }
    }
}
