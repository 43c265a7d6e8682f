import ArgumentParser
import CreditData
import CreditHub
import CreditNode
import Foundation

/// `creditsync check-config FILE`: a daemon's configuration checked without starting anything.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a hub's or a node's configuration file without starting anything.",
        discussion: "A node's file has a \"node\" section, a hub's does not. Exits 0 when valid, 1 with the line of the problem otherwise.")

    @Argument(help: "The configuration file.") var file: String

    func run() async throws {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let isNode = text.split(separator: "\n").contains { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") && $0.contains("\"node\"") }
        do {
            if isNode {
                let config = try ConfigFile.load(NodeConfig.self, from: file)
                print("valid node configuration for \(config.node.id) \(config.node.name)")
            } else {
                let config = try ConfigFile.load(HubConfig.self, from: file)
                print("valid hub configuration for \(config.hub.id)\(config.tls.map { $0.clientCA == nil ? ", TLS" : ", mutual TLS" } ?? "")")
            }
        } catch {
            throw CommandError("\(error)")
        }
    }
}
