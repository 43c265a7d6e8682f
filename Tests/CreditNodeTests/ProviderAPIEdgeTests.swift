import CreditCore
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncProtocol
import Testing

/// Issue 13, item 8 and 11: the provider API's edges answer with the documented status and a
/// JSON error, and change nothing.
@Suite struct ProviderAPIEdgeTests {
    func app(_ f: NodeFixture) -> some ApplicationProtocol {
        let router = ProviderAPI.router(service: f.service)
        return Application(router: router)
    }

    func code(_ buffer: ByteBuffer) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])?["code"] as? String
    }

    @Test func edgesAnswerWithTheirStatusAndAJSONErrorAndChangeNothing() async throws {
        let f = try NodeFixture(limits: NodeService.Limits(maxBodyBytes: 64 * 1024, maxBatchRecords: 10))
        let records = ByteBuffer(bytes: try JSONEncoder().encode(f.punishments(0..<2)))
        let bearer = "Bearer \(f.token)"
        try await app(f).test(.router) { client in
            // Not JSON by its content type: 415, for every JSON route.
            for type in ["text/plain", "application/x-www-form-urlencoded", nil] as [String?] {
                var headers: HTTPFields = [.authorization: bearer]
                if let type { headers[.contentType] = type }
                for uri in ["/v1/records", "/v1/records/administrative-punishment/CF-360100-2026-0/revoke"] {
                    try await client.execute(uri: uri, method: .post, headers: headers, body: records) { r in
                        #expect(r.status == .unsupportedMediaType, "\(uri) as \(type ?? "no type")")
                        #expect(code(r.body) == "unsupported-media-type")
                    }
                }
            }
            let json: HTTPFields = [.authorization: bearer, .contentType: "application/json; charset=utf-8"]
            // Too large: 413 with the usual JSON body.
            try await client.execute(uri: "/v1/records", method: .post, headers: json,
                                     body: ByteBuffer(bytes: Array(repeating: UInt8(ascii: " "), count: 70 * 1024))) { r in
                #expect(r.status == .contentTooLarge)
                #expect(code(r.body) == "too-large")
            }
            // Too many records, told before the body is parsed: this one is not even valid JSON at its end.
            let many = "[" + Array(repeating: "{}", count: 11).joined(separator: ",") + ", oops"
            try await client.execute(uri: "/v1/records", method: .post, headers: json, body: ByteBuffer(string: many)) { r in
                #expect(r.status == .contentTooLarge)
                #expect(code(r.body) == "too-many-records")
            }
            let wrapped = #"{"effectiveAt":null,"records":["# + Array(repeating: "{}", count: 11).joined(separator: ",") + "]}"
            try await client.execute(uri: "/v1/records", method: .post, headers: json, body: ByteBuffer(string: wrapped)) { r in
                #expect(code(r.body) == "too-many-records")
            }
            // A key twice is refused, not resolved one way or the other.
            try await client.execute(uri: "/v1/records", method: .post, headers: json,
                                     body: ByteBuffer(string: #"{"item":"administrative-punishment","item":"administrative-permit"}"#)) { r in
                #expect(r.status == .badRequest)
                #expect(code(r.body) == "bad-request")
            }
            // Every body is strict: a misspelt member is refused naming it, never ignored.
            let records = String(decoding: try JSONEncoder().encode(f.punishments(0..<1)), as: UTF8.self)
            let strays: [(String, String)] = [
                ("/v1/records", #"{"records":\#(records),"effectiveat":"2026-11-20T09:30:00+08:00"}"#),
                ("/v1/records/administrative-punishment/CF-360100-2026-0/revoke", #"{"reason":"撤销","decisionDocument":"洪复决〔2026〕1号","effectiveat":"2026-11-20T09:30:00+08:00"}"#),
                ("/v1/objections", #"{"provider":"x","item":"y","recordId":"z","applicant":"a","grounds":"b","purpose":"c"}"#),
            ]
            for (uri, body) in strays {
                try await client.execute(uri: uri, method: .post, headers: json, body: ByteBuffer(string: body)) { r in
                    #expect(r.status == .badRequest, "\(uri)")
                    #expect(code(r.body) == "bad-request")
                    #expect(String(buffer: r.body).contains("effectiveat") || String(buffer: r.body).contains("purpose"), "\(String(buffer: r.body))")
                }
            }
        }
        #expect(try f.service.store.logHead().size == 0)
    }

    /// RFC 9110: the scheme name is case-insensitive; RFC 3339 allows fractional seconds (what
    /// JavaScript's `toISOString()` writes). A client written from the standards is understood.
    @Test func bearerInAnyCaseAndFractionalSecondsAreUnderstood() async throws {
        let f = try NodeFixture()
        _ = try f.service.submit(f.punishments(0..<3), by: f.identity)
        try await app(f).test(.router) { client in
            let cases = [("bearer", "2026-11-20T01:30:00.123Z"), ("BEARER", "2026-11-20T09:30:00.5+08:00"), ("Bearer  ", "2026-11-20T01:30:00.123456Z")]
            for (index, (scheme, effective)) in cases.enumerated() {
                try await client.execute(uri: "/v1/records/administrative-punishment/CF-360100-2026-\(index)/revoke", method: .post,
                                         headers: [.authorization: "\(scheme) \(f.token)", .contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"reason":"撤销","decisionDocument":"洪复决〔2026〕1号","effectiveAt":"\#(effective)"}"#)) { r in
                    #expect(r.status == .created, "'\(scheme)': \(String(buffer: r.body))")
                }
            }
            for header in ["Bearer\(f.token)", "Basic \(f.token)", "Token \(f.token)", "Bearer ", "Bearer \t\(f.token)"] {
                try await client.execute(uri: "/v1/records", method: .post, headers: [.authorization: header, .contentType: "application/json"],
                                         body: ByteBuffer(string: "[]")) { r in
                    #expect(r.status == .unauthorized, "'\(header)'")
                }
            }
        }
        for index in 0..<3 {
            let key = RecordKey(provider: f.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-\(index)")
            #expect(try f.service.store.record(key)?.status == "revoked")
        }
    }

    /// A correction or revocation effective in the future is taken, with a warning naming the field.
    @Test func aChangeEffectiveInTheFutureIsTakenWithAWarning() throws {
        let f = try NodeFixture()
        _ = try f.service.submit(f.punishments(0..<2), by: f.identity)
        let later = try f.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-0", reason: "撤销",
                                         decisionDocument: "洪复决〔2026〕7号", effectiveAt: NodeFixture.now.addingTimeInterval(2 * 86_400), by: f.identity)
        #expect(later.status == .accepted)
        #expect(later.warnings?.map(\.code) == ["effective-in-future"] && later.warnings?.first?.field == "effectiveAt")
        let past = try f.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-1", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕8号", effectiveAt: NodeFixture.now.addingTimeInterval(-3600), by: f.identity)
        #expect(past.status == .accepted && past.warnings == nil)
    }

    /// A timestamp outside RFC 3339 (a seven-digit year, an offset of +99:00) is refused naming
    /// `effectiveAt` on every route that takes one, and nothing is written: read leniently, it
    /// was stored as 1970 or another offset, and the hub then counted a correction from 1970.
    /// A batch effective in the future is taken with the warning on each record, as one change is.
    @Test func aTimestampOutsideRFC3339IsRefusedAndAFutureOneWarnsOnEveryRoute() async throws {
        let f = try NodeFixture()
        _ = try f.service.submit(f.punishments(0..<1), by: f.identity)
        let json: HTTPFields = [.authorization: "Bearer \(f.token)", .contentType: "application/json"]
        let fresh = String(decoding: try JSONEncoder().encode(f.punishments(1..<3)), as: UTF8.self)
        let record = String(decoding: try JSONEncoder().encode(f.punishments(0..<1)[0]), as: UTF8.self)
        let routes: [(String, @Sendable (String) -> String)] = [
            ("/v1/records", { (t: String) in #"{"records":\#(fresh),"effectiveAt":"\#(t)"}"# }),
            ("/v1/records/administrative-punishment/CF-360100-2026-0/correct",
             { (t: String) in #"{"record":\#(record),"reason":"更正","decisionDocument":"洪2号","effectiveAt":"\#(t)"}"# }),
            ("/v1/records/administrative-punishment/CF-360100-2026-0/revoke",
             { (t: String) in #"{"reason":"撤销","decisionDocument":"洪3号","effectiveAt":"\#(t)"}"# }),
        ]
        try await app(f).test(.router) { client in
            for (uri, body) in routes {
                for bad in ["9999999-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2026-12-03T00:00:00+99:00", "1969-12-31T23:59:59Z"] {
                    try await client.execute(uri: uri, method: .post, headers: json, body: ByteBuffer(string: body(bad))) { r in
                        #expect(r.status == .badRequest, "\(uri) with \(bad): \(String(buffer: r.body))")
                        #expect(code(r.body) == "bad-request" && String(buffer: r.body).contains("effectiveAt"))
                    }
                }
            }
            #expect(try f.service.store.logHead().size == 1)
            let future = "2027-06-01T00:00:00+08:00"
            try await client.execute(uri: routes[0].0, method: .post, headers: json, body: ByteBuffer(string: routes[0].1(future))) { r in
                #expect(r.status == .ok || r.status == .created, "\(String(buffer: r.body))")
                let results = (try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])?["results"] as? [[String: Any]]
                #expect(results?.count == 2)
                for result in results ?? [] {
                    let warnings = result["warnings"] as? [[String: Any]]
                    #expect(warnings?.compactMap { $0["code"] as? String } == ["effective-in-future"], "\(result)")
                    #expect(warnings?.first?["field"] as? String == "effectiveAt")
                }
            }
        }
        let stored = try #require(try f.service.store.record(RecordKey(provider: f.identity.unit, item: "administrative-punishment",
                                                                        recordId: "CF-360100-2026-1")))
        #expect(stored.history.last?.effectiveAt == Date(timeIntervalSince1970: 1_811_779_200))
    }

    @Test func theBatchCountIsReadFromTheBytes() {
        #expect(JSONValue.batchCount(Array("[]".utf8)) == 1)
        #expect(JSONValue.batchCount(Array("[{}]".utf8)) == 1)
        #expect(JSONValue.batchCount(Array(#"[{"a":[1,2,3]},{"b":"x,y]"}, 3]"#.utf8)) == 3)
        #expect(JSONValue.batchCount(Array(#"{"records":[{},{},{},{}],"effectiveAt":"2026"}"#.utf8)) == 4)
        #expect(JSONValue.batchCount(Array(#"{"item":"x","fields":{"a":[1,2,3,4,5]}}"#.utf8)) == 1)
        #expect(JSONValue.batchCount(Array(#"[ "a\",b" , "c" ]"#.utf8)) == 2)
    }
}
