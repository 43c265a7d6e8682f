import CreditData
import CreditHub
import CreditTesting
import Foundation
import Testing

/// The hub's configuration file as a deployer writes it.
@Suite struct HubConfigTests {
    /// The README and the sample say the operators' listener is on loopback unless told
    /// otherwise: a file that names only its port must load, on 127.0.0.1.
    @Test func theOperatorListenerIsOnLoopbackWhenNoHostIsGiven() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("hub.conf.json").path
        try Data("""
        {"hub": {"id": "360000", "name": "hub"}, "listen": {"host": "0.0.0.0", "port": 8100},
         "operator": {"port": 8099}, "database": "hub.sqlite", "signingKey": "hub.key"}
        """.utf8).write(to: URL(fileURLWithPath: path))
        let config = try ConfigFile.load(HubConfig.self, from: path)
        #expect(config.operatorListener.host == "127.0.0.1")
        #expect(config.operatorListener.port == 8099)
        #expect(config.operatorListener.tokenFile == nil)
    }
}
