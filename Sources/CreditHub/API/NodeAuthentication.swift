public import Hummingbird
import NIOCore
import SyncProtocol
import SyncTransport

/// Authenticates every `/v1/nodes/{node}/…` request (`Protocol/hub-api.md`, Authentication):
/// the node's Ed25519 signature over method, target, time, nonce and the SHA-256 of the body,
/// taken once. The body is read here, within the route's bound, so that the signature covers it
/// and the handler reads it again from memory; the node is put in the context, so no handler
/// can forget to check it.
public struct NodeAuthentication: RouterMiddleware {
    public typealias Context = HubRequestContext
    let service: HubService

    public init(service: HubService) { self.service = service }

    /// The most a request body may hold: a change-set envelope, an acknowledgement, or nothing.
    static func bodyLimit(_ request: Request) -> (Int, String) {
        if request.method == .get { return (0, "a read has no body") }
        if request.uri.path.hasSuffix("/fanout/ack") { return (4096, "an acknowledgement is at most 4096 bytes") }
        return (Envelope.maxBytes, "a change set envelope is at most \(Envelope.maxBytes) bytes")
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let claimed = context.parameters.get("node") ?? "?"
        let signed: (request: Request, context: Context)
        do { signed = try await authenticate(request, context: context) } catch let error as HubError {
            // Held against the node the path names only when the node signed it (stale,
            // replayed): anyone who reaches the port could otherwise make a healthy node look
            // broken on the dashboard.
            if error.signedByNode { service.noteRequest(node: claimed, userAgent: nil, refused: error) }
            log(error, request, node: claimed, authenticated: false)
            throw error
        }
        service.noteAuthenticated(node: claimed)
        do {
            let response = try await next(signed.request, signed.context)
            service.noteRequest(node: claimed, userAgent: request.headers[.userAgent], refused: nil)
            return response
        } catch let error as HubError {
            service.noteRequest(node: claimed, userAgent: nil, refused: error)
            log(error, request, node: claimed, authenticated: true)
            throw error
        }
        // Anything else is the hub's failure, logged and answered 500 `internal` by ``JSONErrors``.
    }

    /// Every refusal is logged with the node and the reason, as a warning but for those an
    /// honest node meets in the normal course: a `gap` (how a node learns where to continue
    /// while its earlier sets are in flight) and a request signed before a hub restart, which it
    /// signs again at once. Those are info, so a restart does not fill the journal's warnings.
    func log(_ error: HubError, _ request: Request, node: String, authenticated: Bool) {
        let routine = error.code == "gap" || (error.code == "replayed" && error.message == ReplayGuard.signedBeforeStart)
        service.logger.log(level: routine ? .info : .warning, "refused \(request.method) \(request.uri.path)",
                           metadata: ["node": "\(node)", "stage": authenticated ? "handler" : "authentication", "status": "\(error.status.code)",
                                      "code": "\(error.code)", "reason": "\(error.message)"])
    }

    /// The request with its body read, and the context naming the node whose signature it carries.
    func authenticate(_ request: Request, context: Context) async throws -> (Request, Context) {
        guard let node = context.parameters.get("node") else { throw HubError(.badRequest, "bad-request", "missing node") }
        // A request without a well-formed signature is refused before its body is read.
        guard let header = request.headers[.authorization], let parsed = RequestSignature.parse(header), parsed.node == node else {
            throw service.refuse(.unauthorized, "unauthorized",
                                 "sign the request as node \(node): Authorization: CreditSync-Ed25519 node=…,key=…,ts=…,nonce=…,sig=…")
        }
        // Nor is the body of one that names no active key of the node, and a body is read
        // within a deadline.
        let keys = try service.preauthorize(node: node, signature: parsed)
        let (limit, why) = Self.bodyLimit(request)
        let (request, body) = try await Self.collect(request, upTo: limit, why: why, service: service, connection: context.channel)
        try service.authorize(node: node, method: request.method.rawValue, target: HubAPI.target(request), signature: parsed,
                              body: Array(buffer: body), keys: keys)
        var context = context
        context.node = node
        return (request, context)
    }

    /// The request's body, up to `limit` bytes and within ``HubService/bodySeconds``: 413
    /// `too-large` beyond the one, 408 `too-slow` beyond the other.
    static func collect(_ request: Request, upTo limit: Int, why: String, service: HubService,
                        connection: (any Channel)? = nil) async throws -> (Request, ByteBuffer) {
        @Sendable func read() async throws -> (Request, ByteBuffer) {
            var request = request
            let body: ByteBuffer?
            do { body = try await ServerLimits.readBody(request.body, upTo: limit, closing: connection) } catch let cancelled as CancellationError {
                throw cancelled
            } catch {
                // The client's doing, not the hub's failure (a node killed mid-upload ends its
                // stream early): refused and logged as a warning, not an error and a 500.
                throw service.refuse(.badRequest, "bad-request", "the request body could not be read whole: \(error)")
            }
            guard let body else { throw service.refuse(.contentTooLarge, "too-large", why) }
            // Left in the request, which the handler reads again.
            request.body = .init(buffer: body)
            return (request, body)
        }
        // A read (most requests: every long poll) has no body to wait for.
        if limit == 0 { return try await read() }
        return try await ServerLimits.within(seconds: service.bodySeconds, timedOut: {
            service.refuse(.requestTimeout, "too-slow", "the request body did not arrive within \(String(format: "%g", service.bodySeconds)) s")
        }, read)
    }
}
