import ArgumentParser
import CreditDeploy
import Foundation

/// `creditsync deploy`: deployment files for the province.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Generate a province's deployment.", subcommands: [Init.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the hub's and every node's commented configuration, keys and enrollment commands.")

        @Option(help: "The folder to write (must not exist).")
        var out: String

        @Flag(help: "Also the 100 county-level divisions.")
        var counties = false

        @Option(help: "The address the daemons listen on.")
        var host = "127.0.0.1"

        @Option(help: "The hub's port; the nodes take the following ports.")
        var port = 8100

        func run() async throws {
            let url = URL(fileURLWithPath: out, isDirectory: true)
            guard !FileManager.default.fileExists(atPath: url.path) else { throw CommandError("\(out) exists; choose a new folder") }
            let deployment = try Deployment.generate(in: url, sites: try Deployment.jiangxiSites(counties: counties), host: host, basePort: port)
            print("wrote \(out): hub + \(deployment.nodes.count) nodes")
            print("  hub:   \(deployment.hubConfig.path)")
            print("  nodes: \(url.appendingPathComponent("nodes").path)/<division>/node.conf.json")
            print("  enroll every node at the hub: (cd \(out) && ./enroll.sh)")
            print("  then start: creditsync hub --config hub/hub.conf.json; creditsync node --config nodes/<id>/node.conf.json")
        }
    }
}
