public import AsyncHTTPClient
public import CreditCore
import Foundation
import NIOCore
public import NIOHTTP1

/// A clerk's client of the provider API, for the commands that are not uploads: rights requests,
/// cases, and the self-enquiry report.
public struct NodeClient: Sendable {
    public var nodeURL: String
    public var token: String
    public var client: HTTPClient

    public init(nodeURL: String, token: String, client: HTTPClient = .shared) {
        self.nodeURL = nodeURL.hasSuffix("/") ? String(nodeURL.dropLast()) : nodeURL
        self.token = token
        self.client = client
    }

    /// The HTTP methods the provider API uses.
    public typealias Method = HTTPMethod

    /// A refused request: the node's status and its JSON error body.
    public struct Failure: Error, CustomStringConvertible {
        public var status: Int
        public var body: String
        public var description: String { "the node answered \(status): \(body.prefix(2000))" }
    }

    /// Sends a request and returns the body of a 2xx answer.
    /// - Throws: ``Failure`` for any other status.
    public func send(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, accept: String = "application/json") async throws -> [UInt8] {
        var request = HTTPClientRequest(url: nodeURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: accept)
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json.serializedBytes))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = Array(buffer: try await response.body.collect(upTo: 64 << 20))
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Failure(status: Int(response.status.code), body: String(decoding: body, as: UTF8.self))
        }
        return body
    }

    /// A path segment, percent-encoded.
    public static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? text
    }
}
