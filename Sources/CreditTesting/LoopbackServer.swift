public import Hummingbird
import Logging

extension LoopbackHTTP {
    /// Serves `router` on a free loopback port, quietly (errors only), until the returned task
    /// is cancelled; returns once `/healthz` answers. The in-process HTTP tests' one way to put a
    /// real server in front of a router.
    public static func serve<Router: HTTPResponderBuilder>(_ router: Router, label: String = "test.server") async throws
        -> (port: Int, server: Task<Void, any Error>) where Router.Responder.Context: RequestContext,
        Router.Responder.Context.Source == ApplicationRequestContextSource {
        let port = freePort()
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        let server = Task { try await app.runService() }
        try await waitUntilUp("http://127.0.0.1:\(port)/healthz")
        return (port, server)
    }
}
