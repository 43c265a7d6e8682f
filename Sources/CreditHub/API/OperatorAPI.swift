import Crypto
import Foundation
public import Hummingbird
import SyncProtocol
import SyncTransport

/// The hub's operator endpoints (`Protocol/hub-api.md`, Operator endpoints): the dashboard,
/// `/v1/status` and `/metrics`, on a listener of their own (loopback by default) so that nodes
/// never reach them, each answered from kept counts and recent rows at a cost independent of
/// the history's size. With a token configured, every route but `/healthz` and `/readyz` needs
/// it: `Authorization: Bearer TOKEN` (Prometheus: `authorization: {credentials_file: …}`), or
/// as a browser's Basic password.
public enum OperatorAPI {
    /// The router of the operator listener.
    public static func router(service: HubService, token: String? = nil) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrors(logger: service.logger))
        router.add(middleware: MetricsMiddleware())
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in readiness(service) }
        // Without the token a caller learns nothing of a route, not even its parameters: a
        // parameter given twice is refused only after the token is checked.
        let guarded = router.group().add(middleware: BearerTokenAuthentication(token: token))
            .add(middleware: SingleQueryParameters<BasicRequestContext>())
        guarded.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: try service.metricsExposition())))
        }
        guarded.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: Dashboard.html(try service.snapshot()))))
        }
        guarded.get("/v1/status") { request, _ -> Response in
            let text = request.uri.queryParameters.get("windows") ?? HubService.WindowFilter.attention.rawValue
            guard let filter = HubService.WindowFilter(rawValue: text) else {
                throw HubError(.badRequest, "bad-request", "windows must be attention, closed or all, not '\(text)'")
            }
            return try HubAPI.json(service.snapshot(windows: filter))
        }
        return router
    }

    /// 200 once the store answers, 503 otherwise.
    static func readiness(_ service: HubService) -> Response {
        service.isReady ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "store unavailable\n")))
    }
}

/// The operator token on the operator routes when one is configured; 401 `unauthorized`
/// otherwise. Compared in constant time, by digest.
///
/// Taken as `Authorization: Bearer TOKEN` (Prometheus, scripts) or as the password of
/// `Authorization: Basic` (any user name): a browser asks for it when the 401 says
/// `WWW-Authenticate: Basic`, so an operator opens the dashboard without a header tool.
public struct BearerTokenAuthentication<Context: RequestContext>: RouterMiddleware {
    let digest: [UInt8]?

    public init(token: String?) { digest = token.map { Array(SHA256.hash(data: Data($0.utf8))) } }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let digest else { return try await next(request, context) }
        let candidate = Array(SHA256.hash(data: Data(Self.offered(request.headers[.authorization] ?? "").utf8)))
        guard zip(candidate, digest).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            let message = "the operator endpoints need the hub's operator token (operator.tokenFile): Authorization: Bearer TOKEN, "
                + "or TOKEN as the password a browser asks for"
            var refused = Self.wantsHTML(request) ? Self.page(message)
                : try HubError(.unauthorized, "unauthorized", message).response(from: request, context: context)
            refused.headers[.wwwAuthenticate] = #"Basic realm="creditsync operator", charset="UTF-8""#
            return refused
        }
        return try await next(request, context)
    }

    /// Whether the caller is a browser asking for a page (`Accept` names `text/html`): an
    /// operator who cancels the browser's login box then reads a sentence, not JSON.
    /// Prometheus, scripts and `creditsync status` do not ask for HTML and get the JSON error.
    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[values: .accept].contains { $0.lowercased().contains("text/html") }
    }

    /// The 401 as a page.
    static func page(_ message: String) -> Response {
        let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>creditsync hub: operator token needed</title></head>
        <body style="font-family:system-ui,sans-serif;margin:1.5rem"><h1>The operator token is needed</h1>
        <p>This hub's operator pages need its operator token (the file operator.tokenFile in hub.conf.json names). Reload the page
        and give the token as the password (any user name), or send <code>Authorization: Bearer TOKEN</code>.</p>
        <p>(401 unauthorized: \(message))</p></body></html>
        """
        return Response(status: .unauthorized, headers: [.contentType: "text/html; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The token an `Authorization` header offers: a bearer token, or a Basic password.
    static func offered(_ header: String) -> String {
        if let token = AuthorizationHeader.credentials(header, scheme: "Bearer") { return String(token) }
        guard let basic = AuthorizationHeader.credentials(header, scheme: "Basic"), let decoded = Data(base64Encoded: String(basic)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return "" }
        return String(text[text.index(after: colon)...])
    }
}
