import AsyncHTTPClient
import CreditDeploy
public import Foundation
import NIOCore

/// Real daemons as child processes, for the end-to-end tests.
public final class DaemonProcess: @unchecked Sendable {
    public let process = Process()
    public let log: URL

    /// Starts `creditsync` with `arguments`, its output going to `log`.
    public init(_ arguments: [String], log: URL) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)  // the handle below says why if it failed
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// SIGKILL: no chance to flush or shut down.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitWithoutSpinning()
    }

    /// SIGTERM, then wait for a graceful exit.
    public func terminate() -> Int32 {
        process.terminate()
        process.waitWithoutSpinning()
        return process.terminationStatus
    }

    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// HTTP helpers for talking to real daemons on loopback.
public enum LoopbackHTTP {
    /// A TCP port that was free a moment ago, below the kernel's ephemeral range.
    public static func freePort() -> Int { freePortRange(1) }

    /// A response's status, headers (by name, the last of each) and body.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String] = [:]
        public var body: String
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    public static func request(_ url: String, method: String = "GET", headers: [String: String] = [:], body: Data? = nil,
                               timeout: Int64 = 30) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        // No keep-alive: a daemon under test must not wait for an idle pooled connection when it shuts down.
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: Dictionary(response.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }),
                     body: String(buffer: buffer))
    }

    /// Waits until `url` answers 200, or throws after `seconds`.
    public static func waitUntilUp(_ url: String, seconds: Int = 60) async throws {
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        while Date() < deadline {
            if let reply = try? await request(url, timeout: 2), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw URLError(.timedOut)
    }
}

extension LoopbackHTTP {
    /// A base port whose next `count` ports were all free a moment ago.
    ///
    /// Chosen below the kernel's ephemeral range (`ip_local_port_range`), never inside it: a
    /// daemon restarted on its port would otherwise find it taken by some outgoing connection's
    /// local end, or by a node's own retry to the stopped hub connecting to itself (TCP
    /// simultaneous open on loopback), and fail to start.
    public static func freePortRange(_ count: Int) -> Int {
        let top = ephemeralRangeStart() - count
        for _ in 0..<200 {
            let base = Int.random(in: 10_000...max(10_001, top))
            if (base..<base + count).allSatisfy(isFree) { return base }
        }
        return ephemeralPort()
    }

    /// The first port the kernel hands out to outgoing connections (32768 when unknown).
    static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
    }

    /// A port the kernel picks: free, but inside the ephemeral range.
    static func ephemeralPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
