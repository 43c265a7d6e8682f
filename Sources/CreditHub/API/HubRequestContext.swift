public import Hummingbird

/// The request context of the hub's node-facing routes: what ``NodeAuthentication`` proved.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The node whose signature the request carries; set by ``NodeAuthentication`` on every
    /// `/v1/nodes/{node}/…` route before its handler runs, `nil` on the public routes.
    public var node: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        node = nil
    }

    /// The authenticated node: a handler behind ``NodeAuthentication`` cannot run without one.
    public func requireNode() throws -> String {
        guard let node else { throw HubError(.unauthorized, "unauthorized", "this route needs a signed request") }
        return node
    }
}
