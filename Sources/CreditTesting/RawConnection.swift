import CreditDeploy
public import Foundation

/// A raw TCP connection to a daemon on loopback, for what an HTTP client will not send: half a
/// request head, a body that trickles or never comes, a socket held silent.
public enum RawConnection {
    /// Calls `body` (connect or bind) with 127.0.0.1:`port` as a socket address.
    public static func loopback(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    /// A connection to 127.0.0.1:`port` that has sent `text`; a read on it waits at most
    /// `timeout` seconds. The caller closes it.
    public static func open(to port: Int, sending text: String, timeout: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0, loopback(port: port, { connect(fd, $0, $1) }) == 0 else {
            if fd >= 0 { close(fd) }
            throw FederationError("could not connect to 127.0.0.1:\(port): errno \(errno)")
        }
        _ = text.withCString { send(fd, $0, strlen($0), 0) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// What the daemon answers on `fd`: read until the connection closes, the answer's
    /// `Content-Length` is in, or the read timeout passes ("" for nothing). The read blocks, so
    /// it runs on a thread of its own, not the suite's pool (``ChildProcess`` says why).
    public static func answer(_ fd: Int32) async throws -> String {
        try await ChildProcess.onOwnThread {
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !complete(received) {
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0 else { break }
                received += chunk[..<n]
            }
            return String(decoding: received, as: UTF8.self)
        }
    }

    /// The answer as ``LoopbackHTTP/Reply`` (status 0 when nothing, or no status line, came).
    public static func reply(_ text: String) -> LoopbackHTTP.Reply {
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return LoopbackHTTP.Reply(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Whether `bytes` hold a whole answer with a `Content-Length`.
    static func complete(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return false }
        return text[end.upperBound...].utf8.count >= length
    }
}
