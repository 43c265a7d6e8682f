import ArgumentParser
import CreditDeploy
import Foundation

/// `creditsync deploy`: deployment files for the province.
extension Deployment.Layout: ExpressibleByArgument {}

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

        @Option(help: "Only these divisions, comma-separated (e.g. 360100,360400): deploy the nodes you will run, so that every Article 41 window can close.")
        var cities: String?

        @Flag(help: "Make no node private keys here: each node runs 'creditsync keygen --out node.key' and sends only node.key.pub back for enroll.sh.")
        var nodeKeysOnNodes = false

        @Option(help: "local (paths beside each file: one machine, the demo) or systemd (the shipped units' layout: copy hub/ to /etc/creditsync/hub and nodes/ID to /etc/creditsync/nodes/ID; stores under /var/lib/creditsync).")
        var layout: Deployment.Layout = .local

        @Option(help: "The address the daemons listen on.")
        var host = "127.0.0.1"

        @Option(help: "Where the nodes reach the hub (its DNS name or address), when not at --host: required with --host 0.0.0.0.")
        var hubAddress: String?

        @Option(help: "The hub's port; the nodes take the following ports, and the hub's operator listener (loopback) the port after the last node's.")
        var port = 8100

        func run() async throws {
            let url = URL(fileURLWithPath: out, isDirectory: true)
            guard !FileManager.default.fileExists(atPath: url.path) else { throw CommandError("\(out) exists; choose a new folder") }
            var sites = try Deployment.jiangxiSites(counties: counties)
            if let cities {
                let wanted = cities.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let all = try Deployment.jiangxiSites(counties: true)
                if let unknown = wanted.first(where: { code in !all.contains { $0.id == code } }) {
                    throw CommandError("\(unknown) is not a Jiangxi division code (see creditsync's divisions list)")
                }
                // A listed city, and with --counties its counties too.
                sites = all.filter { site in
                    wanted.contains(site.id) || (counties && wanted.contains { $0.hasSuffix("00") && site.id.hasPrefix($0.prefix(4)) })
                }
            }
            let deployment: Deployment
            do {
                deployment = try Deployment.generate(in: url, sites: sites, host: host, hubAddress: hubAddress, basePort: port,
                                                     nodeKeysOnNodes: nodeKeysOnNodes, layout: layout)
            } catch let error as FederationError { throw ValidationError(error.description) }
            print("wrote \(out): hub + \(deployment.nodes.count) nodes; operator listener 127.0.0.1:\(deployment.operatorPort)")
            print("  prometheus: \(url.appendingPathComponent("prometheus/prometheus.yml").path)")
            print("  hub:   \(deployment.hubConfig.path)")
            print("  nodes: \(url.appendingPathComponent("nodes").path)/<division>/node.conf.json")
            switch layout {
            case .local:
                print("  enroll every node at the hub: (cd \(out) && ./enroll.sh)")
                print("  then start: creditsync hub --config hub/hub.conf.json; creditsync node --config nodes/<id>/node.conf.json")
            case .systemd:
                print("  create the daemons' user and state directory: useradd --system --home /var/lib/creditsync creditsync;")
                print("    install -d -o creditsync -g creditsync -m 0700 /var/lib/creditsync")
                print("  enroll every node at the hub, as that user: (cd \(out) && sudo -u creditsync ./enroll.sh)")
                print("  then copy hub/ to /etc/creditsync/hub and nodes/<id> to /etc/creditsync/nodes/<id> (README: secret files),")
                print("  and start: systemctl enable --now creditsync-hub; systemctl enable --now creditsync-node@<id>")
            }
        }
    }
}
