public import Hummingbird
public import NIOCore

/// The request context of the hub's node-facing routes: what ``NodeAuthentication`` proved.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The node whose signature the request carries; set by ``NodeAuthentication`` on every
    /// `/v1/nodes/{node}/…` route before its handler runs, `nil` on the public routes.
    public var node: String?
    /// The request's connection: closed after a body that runs far past its limit
    /// (``NodeAuthentication``), which the server would otherwise read and drop to its end.
    public let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        node = nil
        channel = source.channel
    }

    /// The authenticated node: a handler behind ``NodeAuthentication`` cannot run without one.
    public func requireNode() throws -> String {
        guard let node else { throw HubError(.unauthorized, "unauthorized", "this route needs a signed request") }
        return node
    }
}
