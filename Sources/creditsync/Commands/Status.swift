import ArgumentParser
import AsyncHTTPClient
import CreditHub
import Foundation
import NIOCore

/// `creditsync status --hub URL`: the operator's table of nodes and windows.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the hub's nodes with lag and last seen, and corrections at risk or breached.",
        discussion: "Exits 0 when every window (Article 41's, and the objection and restoration windows of Articles 39 and 40) is on time, paused or met, 1 when one is open and at risk or breached, or was missed in the last 24 hours (for Nagios-style checks; a miss stays listed for 30 days), 2 when the hub cannot be read. A due date ends at 24:00 Asia/Shanghai.")

    @Option(help: "The hub's operator URL (its \"operator\" listener, http://127.0.0.1:PORT).") var hub: String
    @Option(help: "A file holding the operator bearer token, when the hub requires one.") var tokenFile: String?
    @Flag(help: "Print the hub's JSON status as it is.") var json = false

    func run() async throws {
        let snapshot: HubService.Snapshot, body: ByteBuffer
        do { (snapshot, body) = try await read() } catch {
            // 2, not 1: a check that cannot read the hub knows nothing of the windows (UNKNOWN).
            printError("Error: \(error)")
            throw ExitCode(2)
        }
        print(json ? String(buffer: body) : StatusTable.render(snapshot), terminator: json ? "\n" : "")
        if snapshot.windowsNeedAttention { throw ExitCode(1) }
    }

    /// The hub's status, decoded, and as it was sent.
    func read() async throws -> (HubService.Snapshot, ByteBuffer) {
        var request = HTTPClientRequest(url: (hub.hasSuffix("/") ? String(hub.dropLast()) : hub) + "/v1/status")
        request.method = .GET
        if let tokenFile {
            let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: .seconds(15)) } catch {
            throw CommandError("cannot reach the hub at \(hub): \(error)")
        }
        let body = try await response.body.collect(upTo: 32 << 20)
        guard response.status == .ok else {
            let hint = response.status.code != 401 ? ""
                : tokenFile == nil ? ": this hub needs its operator token (--token-file FILE, the hub's operator.tokenFile)"
                : ": the token in \(tokenFile ?? "") is not the hub's operator token"
            throw CommandError("the hub answered \(response.status.code)\(hint)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (try decoder.decode(HubService.Snapshot.self, from: Data(buffer: body)), body)
    }
}
