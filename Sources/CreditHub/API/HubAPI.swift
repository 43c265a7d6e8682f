import CreditCore
import Foundation
public import Hummingbird
import HTTPTypes
import SyncProtocol
import SyncTransport

/// The hub's node-facing HTTP endpoints (`Protocol/hub-api.md`): the node routes behind
/// ``NodeAuthentication``, the signed reference data, and the hub log's head and proofs. The
/// operators' dashboard, status and metrics are on their own listener (``OperatorAPI``).
public enum HubAPI {
    /// The router of the hub's main listener.
    public static func router(service: HubService) -> Router<HubRequestContext> {
        let router = Router(context: HubRequestContext.self)
        router.add(middleware: JSONErrors(logger: service.logger))
        // Request counts and durations per route, through swift-metrics (the daemon bootstraps it).
        router.add(middleware: MetricsMiddleware())
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in OperatorAPI.readiness(service) }

        // A parameter given twice is refused on every route that reads parameters; on a node's
        // routes only once the request is authenticated, so that a caller without a key learns
        // nothing of them, not even that they take parameters.
        let open = router.group().add(middleware: SingleQueryParameters<HubRequestContext>())
        open.get("/v1/reference") { _, _ -> Response in
            envelope(try service.referenceManifest())
        }
        open.get("/v1/reference/:folder/:name") { _, context -> Response in
            let path = "\(try parameter(context, "folder"))/\(try parameter(context, "name"))"
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try service.referenceFile(path))))
        }

        // The hub log: public, since a proof is verified against signed heads and reveals hashes only.
        open.get("/v1/log/head") { _, _ -> Response in envelope(try service.signedTreeHead()) }
        open.get("/v1/log/consistency") { request, _ -> Response in
            let first = try integer(request, "first"), second = try integer(request, "second")
            return try json(ConsistencyAnswer(first: first, second: second,
                                              proof: try service.consistencyProof(first: first, second: second).map(\.hex)))
        }
        open.get("/v1/log/inclusion") { request, _ -> Response in
            let position = try integer(request, "position"), size = try integer(request, "size")
            let (leaf, proof) = try service.inclusionProof(position: position, size: size)
            return try json(InclusionAnswer(position: position, size: size, leafHash: leaf.hex, proof: proof.map(\.hex)))
        }

        let nodes = router.group("/v1/nodes/:node").add(middleware: NodeAuthentication(service: service))
            .add(middleware: SingleQueryParameters<HubRequestContext>())
        nodes.post("changesets") { request, context -> Response in
            let node = try context.requireNode()
            let body = try await request.body.collect(upTo: Envelope.maxBytes)
            var pinned: TreeHead?
            if let text = request.uri.queryParameters.get("pinned") {
                guard let head = pinnedHead(text) else {
                    throw HubError(.badRequest, "bad-request", "pinned must be SIZE:ROOT (a size and 64 lowercase hex digits), not '\(text)'")
                }
                pinned = head
            }
            let receipt = try await service.ingest(node: node, envelope: Array(buffer: body))
            // Only a set the hub took has its pinned head looked at: a refused request changes
            // nothing (hub-api.md), fork reports included.
            if let pinned { try service.checkPinned(node: node, head: pinned) }
            return envelope(receipt)
        }
        nodes.get("position") { _, context -> Response in
            envelope(try service.signedPosition(node: try context.requireNode()))
        }
        nodes.get("fanout") { request, context -> Response in
            let node = try context.requireNode()
            let after = try integer(request, "after")
            let fanOut = FanOutRequest(after: after, applied: request.uri.queryParameters.get("applied") == nil ? after : try integer(request, "applied"),
                                       pinned: request.uri.queryParameters.get("pinned") == nil ? nil : try integer(request, "pinned"),
                                       waitSeconds: waitSeconds(request.uri.queryParameters.get("wait")))
            let answer = try await service.fanOut(node: node, fanOut)
            var response = envelope(answer.batch)
            if let consistency = answer.consistency, let name = HTTPField.Name(FanOutAnswer.Consistency.header) {
                response.headers[name] = consistency.headerValue
            }
            return response
        }
        nodes.get("subjects/:subject") { _, context -> Response in
            envelope(try service.subjectAttestation(node: try context.requireNode(), subject: try parameter(context, "subject")))
        }
        nodes.get("refusals") { request, context -> Response in
            envelope(try service.refusals(node: try context.requireNode(), after: try integer(request, "after")))
        }
        nodes.get("changes") { request, context -> Response in
            envelope(try service.recover(node: try context.requireNode(), after: try integer(request, "after")))
        }
        nodes.post("fanout/ack") { request, context -> Response in
            let node = try context.requireNode()
            let body = try await request.body.collect(upTo: 4096)
            try await service.acknowledge(node: node, through: try acknowledged(Array(buffer: body)))
            return Response(status: .noContent)
        }
        return router
    }

    /// The position of a fan-out acknowledgement, `{"through": N}` and nothing else: read with
    /// the project's JSON reader, which refuses a key given twice (Protocol/README.md), and
    /// strict like every body a node sends. N is written in decimal digits: the reader gives
    /// `1e0` as `1` and `-0` as `0`, so a body holding an exponent, a point or a sign is refused
    /// before it is read (its one member's name, `through`, holds none of them).
    static func acknowledged(_ body: [UInt8]) throws -> UInt64 {
        let refusal = HubError(.badRequest, "bad-request",
                               "the body must be {\"through\": N} with N an integer from 0 to 2^63 − 1 in decimal digits, and no other member")
        guard !body.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
              case let .object(members)? = try? JSONValue.parse(body), members.count == 1, case let .number(text)? = members["through"],
              let through = UInt64(text), through <= UInt64(Int64.max) else { throw refusal }
        return through
    }

    struct ConsistencyAnswer: Encodable { var first: UInt64; var second: UInt64; var proof: [String] }
    struct InclusionAnswer: Encodable { var position: UInt64; var size: UInt64; var leafHash: String; var proof: [String] }

    /// `SIZE:ROOT` as a node sends its pinned hub head: a size and 64 lowercase hex digits.
    static func pinnedHead(_ text: String) -> TreeHead? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let size = decimal(parts[0]), parts[1].utf8.count == 64,
              parts[1].utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
              let root = Hash32(hex: String(parts[1])) else { return nil }
        return TreeHead(size: size, root: root)
    }

    /// A required integer in 0…2⁶³ − 1 from the query (given once: ``SingleQueryParameters``), in decimal without a sign or leading zeros.
    static func integer(_ request: Request, _ name: String) throws -> UInt64 {
        let text = request.uri.queryParameters.get(name) ?? ""
        guard let value = decimal(Substring(text)) else {
            throw HubError(.badRequest, "bad-request", "\(name) must be an integer from 0 to 2^63 − 1, not '\(text)'")
        }
        return value
    }

    /// `wait=S` as hub-api.md reads it: at most 60 (a larger `S`, however large, is 60), and a
    /// negative, missing or non-integer one is 0.
    static func waitSeconds(_ text: String?) -> Int {
        guard let text, !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return 0 }
        return Int(min(60, UInt64(text) ?? 60))
    }

    /// Decimal digits naming 0…2⁶³ − 1, with no sign and no leading zero (the form the signature covers).
    static func decimal(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }), text == "0" || text.first != "0",
              let value = UInt64(text), value <= UInt64(Int64.max) else { return nil }
        return value
    }

    /// A path parameter, percent-decoded (a subject key's `:` may arrive as `%3A`).
    static func parameter(_ context: some RequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name) else { throw HubError(.badRequest, "bad-request", "missing \(name)") }
        guard let value = raw.removingPercentEncoding else {
            throw HubError(.badRequest, "bad-request", "\(name) '\(raw)' is not validly percent-encoded")
        }
        return value
    }

    /// The request target as the node signed it: path and query.
    static func target(_ request: Request) -> String {
        request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
    }

    static func envelope(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: HubPaths.envelopeType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
