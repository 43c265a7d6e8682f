import Foundation
public import Hummingbird
import SyncProtocol
import SyncTransport

/// The hub's HTTP endpoints (`Protocol/hub-api.md`).
public enum HubAPI {
    public static func addRoutes(to router: Router<some RequestContext>, service: HubService) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            do {
                _ = try service.store.hubHead()
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            } catch {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "store unavailable\n")))
            }
        }
        router.get("/metrics") { _, _ -> Response in
            try service.refreshMetrics()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: service.metrics.exposition())))
        }
        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: Dashboard.html(try service.snapshot()))))
        }
        router.get("/v1/status") { _, _ -> Response in
            try json(service.snapshot())
        }

        router.get("/v1/reference") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: HubPaths.envelopeType],
                     body: .init(byteBuffer: ByteBuffer(bytes: try service.referenceManifest())))
        }
        router.get("/v1/reference/:folder/:name") { _, context -> Response in
            let path = "\(try parameter(context, "folder"))/\(try parameter(context, "name"))"
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try service.referenceFile(path))))
        }
        router.post("/v1/nodes/:node/changesets") { request, context -> Response in
            let node = try parameter(context, "node")
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: Envelope.maxBytes) } catch {
                throw service.refuse(.contentTooLarge, "too-large", "a change set envelope is at most \(Envelope.maxBytes) bytes")
            }
            let receipt = try await service.ingest(node: node, envelope: Array(buffer: body))
            return Response(status: .ok, headers: [.contentType: HubPaths.envelopeType], body: .init(byteBuffer: ByteBuffer(bytes: receipt)))
        }
        router.get("/v1/nodes/:node/position") { request, context -> Response in
            let node = try parameter(context, "node")
            try service.authorize(node: node, method: "GET", target: target(request), header: request.headers[.authorization])
            return Response(status: .ok, headers: [.contentType: HubPaths.envelopeType],
                            body: .init(byteBuffer: ByteBuffer(bytes: try service.signedPosition(node: node))))
        }
        router.get("/v1/nodes/:node/fanout") { request, context -> Response in
            let node = try parameter(context, "node")
            try service.authorize(node: node, method: "GET", target: target(request), header: request.headers[.authorization])
            let after = try position(request, "after")
            let wait = min(60, request.uri.queryParameters.get("wait").flatMap(Int.init) ?? 0)
            let batch = try await service.fanOut(node: node, after: after, wait: .seconds(wait))
            return Response(status: .ok, headers: [.contentType: HubPaths.envelopeType], body: .init(byteBuffer: ByteBuffer(bytes: batch)))
        }
        router.get("/v1/nodes/:node/changes") { request, context -> Response in
            let node = try parameter(context, "node")
            try service.authorize(node: node, method: "GET", target: target(request), header: request.headers[.authorization])
            let after = try position(request, "after")
            let batch = try service.recover(node: node, after: after)
            return Response(status: .ok, headers: [.contentType: HubPaths.envelopeType], body: .init(byteBuffer: ByteBuffer(bytes: batch)))
        }
        router.post("/v1/nodes/:node/fanout/ack") { request, context -> Response in
            let node = try parameter(context, "node")
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: 4096) } catch {
                throw HubError(.contentTooLarge, "too-large", "an acknowledgement is at most 4096 bytes")
            }
            // The signature covers the body: a captured header cannot carry another position.
            try service.authorize(node: node, method: "POST", target: target(request), header: request.headers[.authorization],
                                  body: Array(buffer: body))
            guard let ack = try? JSONDecoder().decode(Ack.self, from: Data(buffer: body)), ack.through <= UInt64(Int64.max) else {
                throw HubError(.badRequest, "bad-request", "the body must be {\"through\": N} with 0 ≤ N ≤ 2^63 − 1")
            }
            try service.acknowledge(node: node, through: ack.through)
            return Response(status: .noContent)
        }
    }

    struct Ack: Decodable { var through: UInt64 }

    /// A position in the query (`after`): absent is 0; anything but an integer in 0…2⁶³ − 1 is refused.
    static func position(_ request: Request, _ name: String) throws -> UInt64 {
        guard let text = request.uri.queryParameters.get(name) else { return 0 }
        guard let value = UInt64(text), value <= UInt64(Int64.max) else {
            throw HubError(.badRequest, "bad-request", "\(name) must be an integer from 0 to 2^63 − 1, not '\(text)'")
        }
        return value
    }

    static func parameter(_ context: some RequestContext, _ name: String) throws -> String {
        guard let value = context.parameters.get(name) else { throw HubError(.badRequest, "bad-request", "missing \(name)") }
        return value
    }

    /// The request target as the node signed it: path and query.
    static func target(_ request: Request) -> String {
        request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
