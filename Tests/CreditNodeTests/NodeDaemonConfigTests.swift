import CreditData
@testable import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import Testing

/// What a node's configuration sets reaches every part it names.
@Suite struct NodeDaemonConfigTests {
    /// `maxBackoffSeconds` bounds the fan-out's retries as well as the pushes': the fan-out's had
    /// stayed at 60 s, and a node came back a minute after a hub restart (a crash review).
    @Test func maxBackoffBoundsPushesAndPullsAlike() async throws {
        let dir = try Fixtures.temporaryDirectory("daemon-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sandbox = try await NodeSandbox.withoutHub(in: dir, node: "360700")
        let config = try ConfigFile.load(NodeConfig.self, from: sandbox.config.path)
        #expect(config.push?.maxBackoffSeconds == 1)
        let daemon = try NodeDaemon(config: config, configPath: sandbox.config.path)
        #expect(daemon.receiver.backoff.maximum == .seconds(1))
        #expect(daemon.pusher.configuration.backoff.maximum == .seconds(1))
    }
}
