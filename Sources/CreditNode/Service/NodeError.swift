public import CreditCore
import Foundation
public import Hummingbird

/// A failure of a provider request, carrying the HTTP status `Protocol/provider-api.openapi.json`
/// names for it and a JSON body `{code, message, recordId?, errors?}`; a 401 also says, in
/// `WWW-Authenticate`, which scheme the API takes (RFC 9110 §11.6.1).
public struct NodeError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var recordId: String?
    public var errors: [ValidationIssue]?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, recordId: String? = nil,
                errors: [ValidationIssue]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.recordId = recordId
        self.errors = errors
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func unauthorized() -> NodeError {
        NodeError(.unauthorized, "unauthorized", "send 'Authorization: Bearer <token>' with a live provider token")
    }

    static func forbidden(_ message: String) -> NodeError { NodeError(.forbidden, "forbidden", message) }

    static func badRequest(_ message: String) -> NodeError { NodeError(.badRequest, "bad-request", message) }

    struct Body: Encodable {
        var code: String
        var message: String
        var recordId: String?
        var errors: [ValidationIssue]?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Body(code: code, message: message, recordId: recordId, errors: errors))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="creditsync provider API""# }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
