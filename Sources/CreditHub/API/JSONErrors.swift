import Hummingbird
import Logging

/// Answers every failure on the hub's listeners (the main one and the operators') as `Protocol/hub-api.md` says every error is
/// answered: JSON `{code, message}`. Hummingbird's own errors (no such path or method, a body
/// over its limit) get the code their status stands for; any other error is the hub's failure,
/// logged with its cause and answered 500 `internal` rather than as a page a client cannot read.
struct JSONErrors<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HubError {
            throw error
        } catch let error as HTTPError {
            throw HubError(error.status, Self.code(error.status), error.body ?? "\(error.status.code) \(error.status.reasonPhrase): \(request.uri.path)")
        } catch let error as any HTTPResponseError where error.status.code < 500 {
            throw HubError(error.status, Self.code(error.status), "\(error)")
        } catch {
            logger.error("failed \(request.method) \(request.uri.path)", metadata: ["error": "\(error)"])
            throw HubError(.internalServerError, "internal", "the hub failed to answer; it logged why")
        }
    }

    /// The code of an error Hummingbird raised, by its status: hub-api.md's for the same status.
    static func code(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not-found"
        case .contentTooLarge: "too-large"
        default: status.code >= 500 ? "internal" : "bad-request"
        }
    }
}
