@testable import CreditHub
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// hub-api.md: every error answers JSON `{code, message}` — Hummingbird's own refusals and the
/// hub's failures too, not only the refusals the hub raises itself.
@Suite struct JSONErrorsTests {
    struct Broken: Error {}

    func code(_ buffer: ByteBuffer) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])?["code"] as? String
    }

    @Test func everyFailureIsAnsweredAsJSON() async throws {
        let router = Router(context: HubRequestContext.self)
        router.add(middleware: JSONErrors(logger: Logger(label: "test")))
        router.get("/broken") { _, _ -> String in throw Broken() }
        router.post("/small") { request, _ -> String in
            _ = try await request.body.collect(upTo: 4)
            return "ok"
        }
        router.get("/refused") { _, _ -> String in throw HubError(.conflict, "gap", "expected 3", expected: 3) }
        try await Application(router: router).test(.router) { client in
            let cases: [(String, HTTPRequest.Method, ByteBuffer?, HTTPResponse.Status, String)] = [
                ("/broken", .get, nil, .internalServerError, "internal"),
                ("/nowhere", .get, nil, .notFound, "not-found"),
                ("/broken", .post, nil, .notFound, "not-found"),
                ("/small", .post, ByteBuffer(string: "too many bytes"), .contentTooLarge, "too-large"),
                ("/refused", .get, nil, .conflict, "gap"),
            ]
            for (uri, method, body, status, expected) in cases {
                try await client.execute(uri: uri, method: method, body: body) { r in
                    #expect(r.status == status, "\(method) \(uri)")
                    #expect(r.headers[.contentType]?.hasPrefix("application/json") == true, "\(method) \(uri)")
                    #expect(code(r.body) == expected, "\(method) \(uri): \(String(buffer: r.body))")
                }
            }
        }
    }
}
