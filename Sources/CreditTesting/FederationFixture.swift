public import CreditDeploy
import Foundation

extension Federation {
    /// A federation of a hub and `nodes` city nodes in a fresh temporary folder, prepared and
    /// started with the real binary.
    public static func started(nodes: [String] = ["360100", "360700", "360900"]) async throws -> Federation {
        let dir = try Fixtures.temporaryDirectory("federation")
        let sites = try Deployment.jiangxiSites(counties: false).filter { nodes.contains($0.id) }
        let deployment = try Deployment.generate(in: dir, sites: sites, basePort: LoopbackHTTP.freePortRange(nodes.count + 2),
                                                 pushIdleMilliseconds: 50)
        let federation = Federation(deployment: deployment, executable: CLI.executable)
        try federation.prepare()
        try federation.start()
        try await federation.waitUntilHealthy()
        return federation
    }

    /// Stops the processes and removes the folder.
    public func tearDown() {
        stop()
        if ProcessInfo.processInfo.environment["CREDITSYNC_KEEP"] == nil { try? FileManager.default.removeItem(at: deployment.directory) }
    }
}
