import CreditHub
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import Logging
import SyncTransport
import Testing

/// A body far past the hub's limit, from a caller whose header names an active key (the body
/// is read before the signature over it can be checked): the hub reads and drops a bounded
/// amount and then closes the connection, instead of reading the stream for as long as it comes.
@Suite struct BodyLimitTests {
    @Test func aBodyStreamingFarPastTheLimitHasItsConnectionClosed() async throws {
        let h = try HubFixture()
        let nanchang = try NodeFixture(node: "360100", readScope: .all)
        try h.enroll("360100", key: nanchang.key)
        let port = LoopbackHTTP.freePort()
        var logger = Logger(label: "test.hub")
        logger.logLevel = .critical
        let app = Application(router: HubAPI.router(service: h.hub), configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        try await LoopbackHTTP.waitUntilUp("http://127.0.0.1:\(port)/healthz")

        let target = HubPaths.changeSets(node: "360100")
        let header = try RequestSignature.header(node: "360100", key: nanchang.key, method: "POST", target: target, body: [], now: h.now)
        let head = "POST \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(header)\r\n"
            + "Content-Type: application/vnd.in-toto+json\r\nContent-Length: \(1 << 30)\r\n\r\n"
        let fd = try RawConnection.open(to: port, sending: head, timeout: 5)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // 1 GiB declared; sent a MiB at a time until the hub stops taking it.
        let sent = try await ChildProcess.onOwnThread { () -> Int in
            let chunk = [UInt8](repeating: 7, count: 1 << 20)
            var total = 0
            while total < 1 << 30 {
                let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { break }
                total += n
            }
            return total
        }
        // The limit (16 MiB), as much again, and what the sockets' buffers held.
        #expect(sent < 96 << 20, "the hub took \(sent >> 20) MiB of a body over its 16 MiB limit")
        #expect(sent > 16 << 20)
    }
}
