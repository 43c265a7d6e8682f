import AsyncHTTPClient
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import SyncProtocol
import SyncTransport
import Testing

/// The node–hub link over TLS (swift-nio-ssl): TLS 1.2 at least, and with mutual TLS a client
/// without a certificate from the province's CA is refused in the handshake.
@Suite struct TLSTests {
    /// A key that is not the certificate's, or a file that is not PEM, is refused when the
    /// configuration is made (the daemon's start, check-config), naming the file: not at the
    /// first handshake, where a node had retried for ten seconds a time.
    @Test func aMismatchedKeyOrAnUnreadableFileIsRefusedNamingIt() async throws {
        let dir = try Fixtures.temporaryDirectory("tls-mismatch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let certs = try await TestCertificates(in: dir)
        for (made, file) in [({ try TLSSettings.server(certificate: certs.serverCertificate, privateKey: certs.clientKey, clientCA: certs.ca) }, certs.clientKey),
                             ({ try TLSSettings.client(ca: certs.ca, certificate: certs.clientCertificate, privateKey: certs.serverKey) }, certs.serverKey),
                             ({ try TLSSettings.client(ca: certs.serverKey, certificate: nil, privateKey: nil) }, certs.serverKey)]
            as [(() throws -> TLSConfiguration, String)] {
            let error = #expect(throws: TLSSettings.Failure.self) { _ = try made() }
            #expect(error?.description.contains(file) == true, "\(error.map(String.init(describing:)) ?? "")")
        }
    }

    /// A private key that group or others can read is refused, as a signing key is, naming the
    /// file and its mode; made the owner's alone, the same file is taken.
    @Test func aPrivateKeyOpenToOthersIsRefused() async throws {
        let dir = try Fixtures.temporaryDirectory("tls-mode")
        defer { try? FileManager.default.removeItem(at: dir) }
        let certs = try await TestCertificates(in: dir)
        for mode in [0o644, 0o640, 0o620] {
            #expect(chmod(certs.serverKey, mode_t(mode)) == 0)
            let error = #expect(throws: TLSSettings.Failure.self) {
                _ = try TLSSettings.server(certificate: certs.serverCertificate, privateKey: certs.serverKey, clientCA: certs.ca)
            }
            #expect(error?.description.contains("\(certs.serverKey) is open to group or others (mode \(String(mode, radix: 8)))") == true)
            #expect(throws: TLSSettings.Failure.self) {
                _ = try TLSSettings.client(ca: certs.ca, certificate: certs.serverCertificate, privateKey: certs.serverKey)
            }
        }
        #expect(chmod(certs.serverKey, 0o600) == 0)
        _ = try TLSSettings.server(certificate: certs.serverCertificate, privateKey: certs.serverKey, clientCA: certs.ca)
    }

    @Test func mutualTLSAdmitsCertifiedNodesAndRefusesOthers() async throws {
        let dir = try Fixtures.temporaryDirectory("tls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let certs = try await TestCertificates(in: dir)
        let server = try TLSSettings.server(certificate: certs.serverCertificate, privateKey: certs.serverKey, clientCA: certs.ca)
        #expect(server.minimumTLSVersion == .tlsv12)

        let h = try HubFixture()
        let node = try NodeFixture(node: "360100")
        try h.enroll("360100", key: node.key)
        let port = LoopbackHTTP.freePort()
        let router = HubAPI.router(service: h.hub)
        var logger = Logger(label: "tls")
        logger.logLevel = .critical
        let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: server),
                              configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        let running = Task { try await app.runService() }
        defer { running.cancel() }

        func client(withCertificate: Bool) throws -> HTTPClient {
            var settings = HTTPClient.Configuration()
            settings.tlsConfiguration = try TLSSettings.client(ca: certs.ca, certificate: withCertificate ? certs.clientCertificate : nil,
                                                               privateKey: withCertificate ? certs.clientKey : nil)
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
        }
        let certified = try client(withCertificate: true)
        let anonymous = try client(withCertificate: false)
        let url = "https://127.0.0.1:\(port)"
        // Wait for the listener.
        for _ in 0..<100 {
            if (try? await certified.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(2)))?.status == .ok { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = try node.service.submit(node.punishments(0..<5), by: node.identity)
        let pusher = Pusher(node: "360100", store: node.service.store,
                            transport: HTTPHubTransport(client: certified, baseURL: url, node: "360100", key: node.key, hubKeys: h.pinned, now: h.clock.function),
                            key: node.key, hub: "360000", hubKeys: h.pinned, now: h.clock.function)
        #expect(try await pusher.pushOnce() == 5)

        let refused = HTTPHubTransport(client: anonymous, baseURL: url, node: "360100", key: node.key, hubKeys: h.pinned, timeout: .seconds(5), now: h.clock.function)
        let error: TransportError? = await {
            do { _ = try await refused.position(node: "360100"); return nil } catch { return error as? TransportError }
        }()
        try await certified.shutdown()
        try await anonymous.shutdown()
        guard case .unreachable? = error else {
            Issue.record("a client without a certificate got through: \(String(describing: error))")
            return
        }
    }
}
