public import Hummingbird
import SyncTransport

/// Lets a request with a body in only with one of the node's ``BodyPermits``, held until its
/// answer is made: authenticated first, so that a stranger's request waits for nothing. One
/// that waited ``NodeService/Limits/permitWaitSeconds`` is answered 503 `busy` with
/// `Retry-After` (its body, unread, is then read and dropped by the server).
public struct BodyPermitMiddleware: RouterMiddleware {
    public typealias Context = ProviderRequestContext
    let permits: BodyPermits
    let limits: NodeService.Limits

    public init(permits: BodyPermits, limits: NodeService.Limits) {
        self.permits = permits
        self.limits = limits
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .put || request.method == .patch else { return try await next(request, context) }
        // A body declared over the limit takes no permit: it is read and dropped (nothing of it
        // is kept) until it ends or its time is up, and then refused; one that runs far past the
        // limit has its connection closed (ServerLimits.readBody). Answered before the client
        // had sent it all, a client that asked to close the connection saw it closed instead
        // of its 413.
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limits.maxBodyBytes {
            let connection = context.channel
            _ = try? await ProviderAPI.withinBodyDeadline(limits) {
                try await ServerLimits.readBody(request.body, upTo: limits.maxBodyBytes, declaredTooLarge: true, closing: connection)
            }
            throw NodeError(.contentTooLarge, "too-large", "a request body is at most \(limits.maxBodyBytes) bytes, this one declares \(declared)")
        }
        guard await permits.acquire(within: limits.permitWaitSeconds) else {
            var busy = try NodeError(.serviceUnavailable, "busy", "the node is reading \(permits.count) request bodies and \(permits.waiting) "
                                     + "more wait; send this one again in a few seconds").response(from: request, context: context)
            busy.headers[.retryAfter] = "5"
            return busy
        }
        defer { permits.release() }
        return try await next(request, context)
    }
}
