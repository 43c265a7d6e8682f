import Foundation
public import Hummingbird

/// A refusal with the status and code of `Protocol/hub-api.md`, answered as JSON.
public struct HubError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// For a gap: the sequence the hub expects next.
    public var expected: UInt64?
    /// A request refused at authentication although it carries a valid signature of the node
    /// (stale or replayed): the node's own doing, shown on its health. Other authentication
    /// refusals could come from anyone and are not held against the node the path names.
    public var signedByNode = false

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, expected: UInt64? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.expected = expected
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    struct Body: Encodable { var code: String; var message: String; var expected: UInt64? }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(Body(code: code, message: message, expected: expected))
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
