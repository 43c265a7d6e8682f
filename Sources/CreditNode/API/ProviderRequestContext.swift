public import Hummingbird
public import NIOCore
import SyncTransport

/// The request context of the provider API: what ``ProviderAuthentication`` proved.
public struct ProviderRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The credential the request's bearer token belongs to; set on every `/v1/…` route.
    public var identity: ProviderIdentity?
    /// The request's connection: closed after a body that runs far past the node's limit
    /// (``SyncTransport/ServerLimits/readBody(_:upTo:)``).
    public let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
        channel = source.channel
    }

    /// The authenticated provider: a handler behind ``ProviderAuthentication`` cannot run without one.
    public func requireIdentity() throws -> ProviderIdentity {
        guard let identity else { throw NodeError.unauthorized() }
        return identity
    }
}

/// Authenticates every `/v1/…` request of the provider API by its bearer token
/// (`Authorization: Bearer cs_…`, issued with `creditsync node provider add`) and puts the
/// provider in the context; 401 `unauthorized` otherwise, before the body is read.
public struct ProviderAuthentication: RouterMiddleware {
    public typealias Context = ProviderRequestContext
    let service: NodeService

    public init(service: NodeService) { self.service = service }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = AuthorizationHeader.credentials(header, scheme: "Bearer"),
              let identity = try service.authenticate(token: String(token))
        else { throw NodeError.unauthorized() }
        var context = context
        context.identity = identity
        return try await next(request, context)
    }
}
