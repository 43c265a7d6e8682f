public import Hummingbird

/// Refuses a request that gives any query parameter twice (`Protocol/hub-api.md`): two readers
/// of `after=1&after=2` could take different ones, so no route of the hub's listeners takes it.
public struct SingleQueryParameters<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var seen = Set<Substring>()
        for (name, _) in request.uri.queryParameters where !seen.insert(name).inserted {
            throw HubError(.badRequest, "bad-request", "\(name) is given more than once")
        }
        return try await next(request, context)
    }
}
