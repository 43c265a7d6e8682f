import ArgumentParser
import AsyncHTTPClient
import CreditHub
import Foundation
import NIOCore

/// `creditsync status --hub URL`: the operator's table of nodes and windows.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the hub's nodes with lag and last seen, and corrections at risk or breached.",
        discussion: "Exits 1 when a window (Article 41's, or an objection or restoration window of Articles 39 and 40) is open and at risk or breached, or was missed in the last 24 hours (for Nagios-style checks; a miss stays listed for 30 days); 2 when the hub cannot be read; 0 otherwise (on time, provisional, paused, met, or missed longer ago). A due date ends at 24:00 Asia/Shanghai.")

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
        guard let url = URL(string: hub), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false else {
            throw CommandError("--hub must be the hub's operator URL, http://HOST:PORT (\"operator\" in hub.conf.json), not '\(hub)'")
        }
        var request = HTTPClientRequest(url: (hub.hasSuffix("/") ? String(hub.dropLast()) : hub) + "/v1/status")
        request.method = .GET
        if let tokenFile {
            let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        // A check answers at once when nothing listens: the shared client would try to connect
        // again until the timeout.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let answer: Result<(HTTPClientResponse, ByteBuffer), any Error>
        do {
            let response = try await client.execute(request, timeout: .seconds(15))
            answer = .success((response, try await response.body.collect(upTo: 32 << 20)))
        } catch { answer = .failure(error) }
        try? await client.shutdown()
        let (response, body): (HTTPClientResponse, ByteBuffer)
        do { (response, body) = try answer.get() } catch { throw CommandError(Self.unreachable(hub, error)) }
        guard response.status == .ok else {
            let hint = switch response.status.code {
            case 401: tokenFile == nil ? ": this hub needs its operator token (--token-file FILE, the hub's operator.tokenFile)"
                : ": the token in \(tokenFile ?? "") is not the hub's operator token"
            case 404: ": is \(hub) the hub's operator listener (\"operator\" in hub.conf.json)? The port nodes use does not serve the status"
            default: ""
            }
            throw CommandError("the hub answered \(response.status.code)\(hint)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return (try decoder.decode(HubService.Snapshot.self, from: Data(buffer: body)), body) } catch {
            throw CommandError("\(hub)/v1/status did not answer with a creditsync hub's status (\(error)): is it this version's hub?")
        }
    }

    /// Why the hub could not be asked, in an operator's words.
    static func unreachable(_ hub: String, _ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("Connection refused") || text.contains("errno: 111") {
            return "nothing answers at \(hub) (connection refused): is the hub running, and is this its operator listener (\"operator\" in hub.conf.json)?"
        }
        if let client = error as? HTTPClientError, [.deadlineExceeded, .connectTimeout, .readTimeout].contains(client) {
            return "the hub at \(hub) did not answer within 15 seconds (\(client)): is the address right, and is a firewall dropping it?"
        }
        return "cannot reach the hub at \(hub): \(text)"
    }
}
