import CreditHub
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import SyncTransport
import Testing

/// A body far past a listener's limit: the hub's, from a caller whose header names an active
/// key (the body is read before the signature over it can be checked), and a node's provider
/// API. Each reads and drops a bounded amount and then closes the connection, instead of reading
/// the stream for as long as it comes (``ServerLimits/readBody(_:upTo:declaredTooLarge:)``).
@Suite struct BodyLimitTests {
    /// Streams a body declared at `declared` bytes (chunked when nil) to `path` on `port` with
    /// `headers`, a MiB at a time, until the server stops taking it; returns what it took.
    static func stream(to port: Int, _ path: String, headers: String, declared: Int?) async throws -> Int {
        let length = declared.map { "Content-Length: \($0)\r\n" } ?? "Transfer-Encoding: chunked\r\n"
        let fd = try RawConnection.open(to: port, sending: "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\(length)\r\n", timeout: 5)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return try await ChildProcess.onOwnThread { () -> Int in
            let mib = [UInt8](repeating: 7, count: 1 << 20)
            let chunk = declared == nil ? Array("100000\r\n".utf8) + mib + Array("\r\n".utf8) : mib
            var total = 0
            while total < 1 << 30 {
                let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { break }
                total += n
            }
            return total
        }
    }

    /// A provider's body past the node's limit, declared or chunked, is bounded the same way.
    @Test func aProvidersBodyStreamingFarPastTheLimitHasItsConnectionClosed() async throws {
        let f = try NodeFixture()
        let (port, server) = try await LoopbackHTTP.serve(ProviderAPI.router(service: f.service))
        defer { server.cancel() }
        let headers = "Authorization: Bearer \(f.token)\r\nContent-Type: application/json\r\n"
        for declared in [1 << 30, nil] {
            let sent = try await Self.stream(to: port, "/v1/records", headers: headers, declared: declared)
            #expect(sent < 96 << 20 && sent > 16 << 20, "the node took \(sent >> 20) MiB of a body over its 16 MiB limit (declared: \(declared.map(String.init) ?? "chunked"))")
        }
    }

    @Test func aBodyStreamingFarPastTheLimitHasItsConnectionClosed() async throws {
        let h = try HubFixture()
        let nanchang = try NodeFixture(node: "360100", readScope: .all)
        try h.enroll("360100", key: nanchang.key)
        let (port, server) = try await LoopbackHTTP.serve(HubAPI.router(service: h.hub))
        defer { server.cancel() }

        let target = HubPaths.changeSets(node: "360100")
        let header = try RequestSignature.header(node: "360100", key: nanchang.key, method: "POST", target: target, body: [], now: h.now)
        let sent = try await Self.stream(to: port, target, headers: "Authorization: \(header)\r\nContent-Type: application/vnd.in-toto+json\r\n",
                                         declared: 1 << 30)
        // The limit (16 MiB), as much again, and what the sockets' buffers held.
        #expect(sent < 96 << 20, "the hub took \(sent >> 20) MiB of a body over its 16 MiB limit")
        #expect(sent > 16 << 20)
    }
}
