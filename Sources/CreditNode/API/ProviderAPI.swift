import CreditCore
import Foundation
public import Hummingbird
import SyncProtocol
import SyncTransport

/// The provider API (`Protocol/provider-api.openapi.json`): records in, records out, health and metrics.
public enum ProviderAPI {
    /// The provider API's router: `/healthz`, `/readyz` and `/metrics` open, every `/v1/…`
    /// route behind ``ProviderAuthentication``.
    public static func router(service: NodeService) -> Router<ProviderRequestContext> {
        let router = Router(context: ProviderRequestContext.self)
        // Request counts and durations per route, through swift-metrics (the daemon bootstraps it).
        router.add(middleware: MetricsMiddleware())
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            service.isReady ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "store unavailable\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: try service.metricsExposition())))
        }

        let v1 = router.group("v1").add(middleware: ProviderAuthentication(service: service))
            .add(middleware: BodyPermitMiddleware(permits: service.bodyPermits, limits: service.limits))
        v1.post("records") { request, context -> Response in
            let identity = try context.requireIdentity()
            let body = try await jsonBody(request, context, service)
            // The batch bound is checked on the raw bytes, before a tree of records is built.
            let count = JSONValue.batchCount(body)
            guard count <= service.limits.maxBatchRecords else {
                throw NodeError(.contentTooLarge, "too-many-records", "a batch holds at most \(service.limits.maxBatchRecords) records, this one \(count)")
            }
            let json: JSONValue
            do { json = try JSONValue.parse(body) } catch {
                throw NodeError.badRequest("the body is not valid JSON: \(error)")
            }
            switch json {
            case .array(let records):
                return try batchResponse(await service.accept(records, by: identity))
            case .object(let object) where object["records"] != nil:
                try only(object, ["records", "effectiveAt"])
                guard case let .array(records)? = object["records"] else { throw NodeError.badRequest("\"records\" must be a list of records") }
                let effective = try date(object["effectiveAt"], field: "effectiveAt")
                return try batchResponse(await service.accept(records, by: identity, effectiveAt: effective))
            default:
                let result = try await service.accept([json], by: identity)[0]
                let status: HTTPResponse.Status = switch result.status {
                case .accepted: .created
                case .duplicate: .ok
                case .rejected: .unprocessableContent
                }
                return try jsonResponse(result, status: status)
            }
        }
        v1.post("records/import") { request, context -> Response in
            let identity = try context.requireIdentity()
            let body = try await collect(request, context, service)
            let text: String
            do { text = try TextDecoding.decode(body, charset: charset(request.headers[.contentType])) } catch {
                throw NodeError.badRequest("\(error)")
            }
            let rows: [DoublePublicityCSV.Row]
            do { rows = try DoublePublicityCSV.rows(text).1 } catch { throw NodeError.badRequest("\(error)") }
            var results = try await service.accept(rows.map(\.record), by: identity)
            for i in results.indices { results[i].index = rows[i].line }
            return try batchResponse(results, lines: true)
        }
        v1.post("records/:item/:recordId/correct") { request, context -> Response in
            let identity = try context.requireIdentity()
            let (item, recordId) = try keyParameters(context)
            let object = try await jsonObject(request, context, service, members: ["record", "reason", "decisionDocument", "effectiveAt"])
            guard let record = object["record"] else { throw NodeError.badRequest("the corrected \"record\" is required") }
            let result = try service.correct(item: item, recordId: recordId, record: record, reason: object["reason"]?.stringValue ?? "",
                                             decisionDocument: object["decisionDocument"]?.stringValue ?? "",
                                             effectiveAt: try date(object["effectiveAt"], field: "effectiveAt"), by: identity)
            return try jsonResponse(result, status: result.status == .accepted ? .created : .ok)
        }
        v1.post("records/:item/:recordId/revoke") { request, context -> Response in
            let identity = try context.requireIdentity()
            let (item, recordId) = try keyParameters(context)
            let object = try await jsonObject(request, context, service, members: ["reason", "decisionDocument", "effectiveAt"])
            let result = try service.revoke(item: item, recordId: recordId, reason: object["reason"]?.stringValue ?? "",
                                            decisionDocument: object["decisionDocument"]?.stringValue ?? "",
                                            effectiveAt: try date(object["effectiveAt"], field: "effectiveAt"), by: identity)
            return try jsonResponse(result, status: result.status == .accepted ? .created : .ok)
        }
        // Credit subjects' rights (Protocol/rights.md): answered 202 with the case, pending
        // until the hub's fan-out brings the change back decided.
        v1.post("objections") { request, context -> Response in
            let identity = try context.requireIdentity()
            let o = try await jsonObject(request, context, service, members: ["provider", "item", "recordId", "applicant", "grounds"])
            let receipt = try service.fileObjection(provider: try text(o, "provider"), item: try text(o, "item"), recordId: try text(o, "recordId"),
                                                    applicant: try text(o, "applicant"), grounds: try text(o, "grounds"), by: identity)
            return try jsonResponse(receipt, status: .accepted)
        }
        v1.post("restorations") { request, context -> Response in
            let identity = try context.requireIdentity()
            let o = try await jsonObject(request, context, service, members: ["provider", "item", "recordId", "applicant", "statement"])
            let receipt = try service.applyForRestoration(provider: try text(o, "provider"), item: try text(o, "item"),
                                                          recordId: try text(o, "recordId"), applicant: try text(o, "applicant"),
                                                          statement: try text(o, "statement"), by: identity)
            return try jsonResponse(receipt, status: .accepted)
        }
        v1.post("records/:item/:recordId/list-removal") { request, context -> Response in
            let identity = try context.requireIdentity()
            let (item, recordId) = try keyParameters(context)
            let o = try await jsonObject(request, context, service, members: ["reason", "decisionDocument"])
            let receipt = try service.removeFromList(item: item, recordId: recordId, reason: o["reason"]?.stringValue ?? "",
                                                    decisionDocument: o["decisionDocument"]?.stringValue ?? "", by: identity)
            return try jsonResponse(receipt, status: .accepted)
        }
        v1.post("cases/:case/events") { request, context -> Response in
            let identity = try context.requireIdentity()
            let caseId = try parameter(context, "case")
            let o = try await jsonObject(request, context, service, members: ["event", "units", "finding", "cause", "reason", "decisionDocument"])
            // Absent for every step but `checks`; when present, a list of texts.
            var units: [String]?
            if let value = o["units"] {
                let listed = value.arrayValue ?? []
                units = listed.compactMap(\.stringValue)
                guard value.arrayValue != nil, units?.count == listed.count else {
                    throw NodeError(.unprocessableContent, "invalid-rights", "'units' must be a list of credit codes",
                                    errors: [ValidationIssue(field: "units", code: "invalid-rights", message: "'units' must be a list of credit codes")])
                }
            }
            let receipt = try service.caseEvent(caseId, event: try text(o, "event"), units: units, finding: o["finding"]?.stringValue,
                                                cause: o["cause"]?.stringValue, reason: o["reason"]?.stringValue ?? "",
                                                decisionDocument: o["decisionDocument"]?.stringValue ?? "", by: identity)
            return try jsonResponse(receipt, status: .accepted)
        }
        // The unit's record writes the hub refused after this node acknowledged them.
        v1.get("refusals") { request, context -> Response in
            let identity = try context.requireIdentity()
            let text = try query(request, "after") ?? "0"
            guard let after = UInt64(text), text.utf8.allSatisfy({ (48...57).contains($0) }), after <= UInt64(Int64.max) else {
                throw NodeError.badRequest("after must be a sequence number from 0 to 2^63 − 1, not '\(text)'")
            }
            return try jsonResponse(try service.refusedWrites(after: after, by: identity), status: .ok)
        }
        v1.get("cases/:case") { _, context -> Response in
            let identity = try context.requireIdentity()
            return try jsonResponse(try service.rightsCase(try parameter(context, "case"), by: identity), status: .ok)
        }
        v1.get("providers/:provider/records/:item/:recordId") { request, context -> Response in
            let identity = try context.requireIdentity()
            let provider = try parameter(context, "provider")
            let (item, recordId) = try keyParameters(context)
            let detail = try service.read(provider: provider, item: item, recordId: recordId,
                                          purpose: try query(request, "purpose") ?? "", by: identity)
            return try jsonResponse(detail, status: .ok)
        }
        // Article 38: a subject's free self-enquiry, as JSON or, for `Accept: text/html`, the printable report.
        v1.get("subjects/:subject/report") { request, context -> Response in
            let identity = try context.requireIdentity()
            let report = try await service.selfEnquiry(subject: try parameter(context, "subject"), by: identity)
            if request.headers[.accept]?.contains("text/html") == true {
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: CreditReportPage.html(report, catalog: service.reference.catalog))))
            }
            return try jsonResponse(report, status: .ok)
        }
        v1.get("subjects/:subject/records") { request, context -> Response in
            let identity = try context.requireIdentity()
            let (subject, records) = try service.list(subject: try parameter(context, "subject"),
                                                      purpose: try query(request, "purpose") ?? "", by: identity)
            return try jsonResponse(["subject": .string(subject), "records": try jsonValue(records)] as [String: JSONValue], status: .ok)
        }
        return router
    }

    // MARK: - Helpers

    static func parameter(_ context: some RequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name) else { throw NodeError.badRequest("missing path parameter \(name)") }
        return raw.removingPercentEncoding ?? raw
    }

    /// A required text member of a request body; a missing one is 422 naming it.
    static func text(_ object: [String: JSONValue], _ name: String) throws -> String {
        guard let value = object[name]?.stringValue else {
            throw NodeError(.unprocessableContent, "invalid-request", "'\(name)' is required, as text",
                            errors: [ValidationIssue(field: name, code: "required", message: "'\(name)' is required, as text")])
        }
        return value
    }

    static func keyParameters(_ context: some RequestContext) throws -> (String, String) {
        (try parameter(context, "item"), try parameter(context, "recordId"))
    }

    /// The body of a JSON route: `Content-Type: application/json` (or `+json`), else 415.
    static func jsonBody(_ request: Request, _ context: ProviderRequestContext, _ service: NodeService) async throws -> [UInt8] {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard type == "application/json" || type.hasSuffix("+json") else {
            throw NodeError(.unsupportedMediaType, "unsupported-media-type",
                            "send JSON with Content-Type: application/json, not '\(request.headers[.contentType] ?? "none")'")
        }
        return try await collect(request, context, service)
    }

    /// The body, at most the node's limit; a larger one is 413 `too-large` with the usual JSON
    /// error, and one that has not arrived within ``NodeService/Limits/bodySeconds`` is 408
    /// `too-slow` (it holds one of the node's ``BodyPermits`` while it comes).
    static func collect(_ request: Request, _ context: ProviderRequestContext, _ service: NodeService) async throws -> [UInt8] {
        let limits = service.limits, connection = context.channel
        let tooLarge = NodeError(.contentTooLarge, "too-large", "a request body is at most \(limits.maxBodyBytes) bytes")
        return try await withinBodyDeadline(limits) {
            let body: ByteBuffer?
            do { body = try await ServerLimits.readBody(request.body, upTo: limits.maxBodyBytes, closing: connection) } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw NodeError.badRequest("the request body could not be read whole: \(error)")
            }
            guard let body else { throw tooLarge }
            return Array(buffer: body)
        }
    }

    /// `read`, or 408 `too-slow` once ``NodeService/Limits/bodySeconds`` have passed (`read` is
    /// then cancelled, which ends the body's stream).
    static func withinBodyDeadline<T: Sendable>(_ limits: NodeService.Limits, _ read: @escaping @Sendable () async throws -> T) async throws -> T {
        try await ServerLimits.within(seconds: limits.bodySeconds, timedOut: {
            NodeError(.requestTimeout, "too-slow", "the request body did not arrive within \(String(format: "%g", limits.bodySeconds)) s")
        }, read)
    }

    /// A JSON object body with no member but `members`: every body is strict, like a record, so
    /// that a misspelt member (`effectiveat`) is an error naming it rather than a value ignored.
    static func jsonObject(_ request: Request, _ context: ProviderRequestContext, _ service: NodeService,
                           members: Set<String>) async throws -> [String: JSONValue] {
        let body = try await jsonBody(request, context, service)
        let json: JSONValue
        do { json = try JSONValue.parse(body) } catch {
            throw NodeError.badRequest("the body is not valid JSON: \(error)")
        }
        guard case let .object(o) = json else { throw NodeError.badRequest("the body must be a JSON object") }
        try only(o, members)
        return o
    }

    /// The query parameter `name`, given at most once: two readers of `purpose=a&purpose=b` could
    /// take different ones, so a parameter given twice is 400 `bad-request`, as at the hub.
    static func query(_ request: Request, _ name: String) throws -> String? {
        let values = request.uri.queryParameters.getAll(name)
        guard values.count <= 1 else { throw NodeError.badRequest("\(name) is given more than once") }
        return values.first.map { String($0) }
    }

    /// 400 `bad-request` naming the first member (in byte order) that is not one of `members`.
    static func only(_ object: [String: JSONValue], _ members: Set<String>) throws {
        if let unknown = object.keys.filter({ !members.contains($0) }).min() {
            throw NodeError.badRequest("'\(unknown)' is not a member of this body; its members are \(members.sorted().joined(separator: ", "))")
        }
    }

    /// An RFC 3339 timestamp, with or without fractional seconds (`2026-11-20T01:30:00.123Z` is
    /// what JavaScript's `toISOString()` writes); kept to the millisecond, as changes keep it.
    /// Read strictly (``InternetTime``): a year past 9999, an offset past ±23:59 or a time
    /// before 1970 is refused, never read as another time.
    static func date(_ value: JSONValue?, field: String) throws -> Date? {
        guard let value, value != .null else { return nil }
        guard case let .string(text) = value, let millis = InternetTime.milliseconds(text) else {
            throw NodeError.badRequest("\(field) must be an RFC 3339 timestamp from 1970 on, such as 2026-11-20T09:30:00+08:00")
        }
        return Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    static func charset(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        for part in contentType.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == "charset" { return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }

    /// The per-record results of a batch, written directly rather than through `JSONEncoder`
    /// or a ``JSONValue`` tree: a batch of thousands of results is answered on every upload, and
    /// building either cost as much as storing the records. Keys are in canonical order.
    static func batchResponse(_ results: [NodeService.SubmitResult], lines: Bool = false) throws -> Response {
        var body: [UInt8] = []
        body.reserveCapacity(96 * results.count + 64)
        body.append(contentsOf: #"{"accepted":"#.utf8)
        body.append(contentsOf: String(results.count { $0.status == .accepted }).utf8)
        body.append(contentsOf: #","duplicate":"#.utf8)
        body.append(contentsOf: String(results.count { $0.status == .duplicate }).utf8)
        body.append(contentsOf: #","rejected":"#.utf8)
        body.append(contentsOf: String(results.count { $0.status == .rejected }).utf8)
        body.append(contentsOf: #","results":["#.utf8)
        for (i, result) in results.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            result.writeJSON(into: &body)
        }
        body.append(contentsOf: "]}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func jsonValue(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    static func describe(_ error: any Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            return (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        }
        return "\(error)"
    }
}
