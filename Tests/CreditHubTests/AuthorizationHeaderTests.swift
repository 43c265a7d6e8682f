import CreditTesting
import Foundation
import SyncTransport
import Testing

/// RFC 9110 §11.4: the scheme name of an `Authorization` header is case-insensitive and is
/// followed by one or more spaces and the credentials; the node's signed requests, the provider
/// tokens and the operator token are all read by ``AuthorizationHeader``.
@Suite struct AuthorizationHeaderTests {
    @Test(arguments: [("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER   abc", "abc"), ("Bearer a b", "a b")])
    func theSchemeIsReadInAnyCase(_ header: String, _ credentials: String) {
        #expect(AuthorizationHeader.credentials(header, scheme: "Bearer") == Substring(credentials))
    }

    @Test(arguments: ["Bearer", "Bearer ", "Bearer   ", "Bearerabc", "Bear abc", "Bearers abc", "Basic abc", "", " Bearer abc", "Bearer\tabc"])
    func anotherSchemeOrNoCredentialsIsNothing(_ header: String) {
        #expect(AuthorizationHeader.credentials(header, scheme: "Bearer") == nil, "'\(header)'")
    }

    @Test func theNodesSignatureSchemeToo() throws {
        let header = try RequestSignature.header(node: "360100", key: SyncFixtures.key("node-360100"), method: "GET",
                                                 target: "/v1/nodes/360100/position", body: [], now: Date())
        let lower = "creditsync-ed25519" + header.dropFirst(HubPaths.authorizationScheme.count)
        #expect(RequestSignature.parse(header) != nil)
        #expect(RequestSignature.parse(lower) == RequestSignature.parse(header))
    }
}
