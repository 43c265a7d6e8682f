import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import OpenAPIKit
import Testing

/// `Protocol/provider-api.openapi.json` is a valid OpenAPI 3.1 document, and it describes the
/// routes the node really serves: every documented operation is routed (never 404 for an
/// unrouted path, nor 405), with the documented statuses for a request without credentials.
@Suite struct OpenAPITests {
    let data = try! Data(contentsOf: Fixtures.protocolFile("provider-api.openapi.json"))

    @Test func documentIsValidOpenAPI() throws {
        let document = try JSONDecoder().decode(OpenAPI.Document.self, from: data)
        try document.validate()
        #expect(document.paths.count >= 8)
    }

    @Test func everyDocumentedOperationIsServed() async throws {
        let document = try JSONDecoder().decode(OpenAPI.Document.self, from: data)
        let f = try NodeFixture()
        let router = ProviderAPI.router(service: f.service)
        let app = Application(router: router)
        try await app.test(.router) { client in
            for (path, item) in document.paths {
                guard let item = item.pathItemValue else { continue }
                for endpoint in item.endpoints {
                    let uri = path.rawValue.replacingOccurrences(of: "{provider}", with: "p").replacingOccurrences(of: "{item}", with: "i")
                        .replacingOccurrences(of: "{recordId}", with: "r").replacingOccurrences(of: "{subject}", with: "s").replacingOccurrences(of: "{case}", with: "c")
                    let method: HTTPRequest.Method = endpoint.method == .post ? .post : .get
                    try await client.execute(uri: uri, method: method, body: ByteBuffer(string: "{}")) { response in
                        #expect(response.status != .notFound || path.rawValue.contains("{"), "\(method) \(uri) is not routed")
                        #expect(response.status != .methodNotAllowed, "\(method) \(uri)")
                        let documented = endpoint.operation.responses.keys.map { $0.rawValue }
                        #expect(documented.contains(String(response.status.code)), "\(method) \(uri) answered \(response.status.code), documented \(documented)")
                    }
                }
            }
        }
    }
}
