import CreditCore
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncProtocol
import Testing

/// The provider API's rights routes in process (`Protocol/provider-api.openapi.json`,
/// `Protocol/rights.md`): the documented statuses, codes and fields, and refused input logs nothing.
@Suite struct RightsAPITests {
    func auth(_ f: NodeFixture) -> HTTPFields { [.authorization: "Bearer \(f.token)", .contentType: "application/json"] }
    func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
    func object(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]) ?? [:]
    }
    func firstField(_ buffer: ByteBuffer) -> String? { ((object(buffer)["errors"] as? [[String: Any]])?.first)?["field"] as? String }


    @Test func objectionsRestorationsAndCaseStepsAnswerAsDocumented() async throws {
        let f = try NodeFixture(readScope: .all)
        _ = try f.service.submit(f.punishments(0..<3), by: f.identity)
        let unit = f.identity.unit
        let app = Application(router: ProviderAPI.router(service: f.service))
        try await app.test(.router) { client in
            let objection = #"{"provider":"\#(unit)","item":"administrative-punishment","recordId":"CF-360100-2026-1","applicant":"某公司","grounds":"金额有误"}"#
            var caseId = ""
            try await client.execute(uri: "/v1/objections", method: .post, headers: auth(f), body: json(objection)) { r in
                #expect(r.status == .accepted)
                #expect(object(r.body)["status"] as? String == "pending")
                caseId = object(r.body)["case"] as? String ?? ""
            }
            #expect(caseId == "360100-4")
            let logged = try f.service.store.logHead().size
            // Refused input answers with its code and field, and logs nothing.
            try await client.execute(uri: "/v1/objections", method: .post, headers: auth(f), body: json(objection)) { r in
                #expect(r.status == .conflict && object(r.body)["code"] as? String == "duplicate-application")
                // The retry of a filing whose answer was lost names the case it opened.
                #expect((object(r.body)["message"] as? String)?.hasSuffix("case \(caseId)") == true, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/v1/objections", method: .post, headers: auth(f),
                                     body: json(#"{"provider":"\#(unit)","item":"administrative-punishment","recordId":"CF-360100-2026-2","applicant":"某公司"}"#)) { r in
                #expect(r.status == .unprocessableContent && firstField(r.body) == "grounds")
            }
            try await client.execute(uri: "/v1/objections", method: .post, headers: auth(f),
                                     body: json(#"{"provider":"\#(unit)","item":"administrative-punishment","recordId":"CF-360100-2026-2","applicant":"某公司","grounds":"\#(String(repeating: "长", count: 2001))"}"#)) { r in
                #expect(r.status == .unprocessableContent && firstField(r.body) == "grounds")
            }
            try await client.execute(uri: "/v1/objections", method: .post, headers: auth(f),
                                     body: json(#"{"provider":"\#(unit)","item":"administrative-punishment","recordId":"nope","applicant":"a","grounds":"b"}"#)) { r in
                #expect(r.status == .notFound && object(r.body)["code"] as? String == "unknown-record")
            }
            try await client.execute(uri: "/v1/objections", method: .post, headers: [.authorization: "Bearer \(f.token)", .contentType: "text/plain"],
                                     body: json(objection)) { r in
                #expect(r.status == .unsupportedMediaType)
            }
            try await client.execute(uri: "/v1/objections", method: .post, headers: [.contentType: "application/json"], body: json(objection)) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate]?.hasPrefix("Bearer ") == true, "a 401 names the scheme it takes")
            }
            try await client.execute(uri: "/v1/cases/\(caseId)/events", method: .post, headers: auth(f), body: json(#"{"event":"paused","cause":"nap"}"#)) { r in
                #expect(r.status == .unprocessableContent && firstField(r.body) == "cause")
            }
            try await client.execute(uri: "/v1/cases/\(caseId)/events", method: .post, headers: auth(f), body: json(#"{"event":"filed"}"#)) { r in
                #expect(r.status == .unprocessableContent && firstField(r.body) == "event")
            }
            try await client.execute(uri: "/v1/cases/\(caseId)/events", method: .post, headers: auth(f), body: json(#"{"event":"checks","units":["\#(unit)"]}"#)) { r in
                #expect(r.status == .unprocessableContent && firstField(r.body) == "units[0]", "the record's own provider cannot check")
            }
            try await client.execute(uri: "/v1/cases/\(caseId)/events", method: .post, headers: auth(f), body: json(#"{"event":"checks","units":["91360000000000000X"]}"#)) { r in
                #expect(r.status == .unprocessableContent && firstField(r.body) == "units[0]")
            }
            // Units belong to 'checks' only: on another step they are refused, not dropped.
            try await client.execute(uri: "/v1/cases/\(caseId)/events", method: .post, headers: auth(f),
                                     body: json(#"{"event":"rejected","reason":"记载无误","units":["91360000000000000X"]}"#)) { r in
                #expect(r.status == .unprocessableContent && firstField(r.body) == "units", "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/v1/cases/360100-999/events", method: .post, headers: auth(f), body: json(#"{"event":"resumed"}"#)) { r in
                #expect(r.status == .notFound && object(r.body)["code"] as? String == "unknown-case")
            }
            try await client.execute(uri: "/v1/restorations", method: .post, headers: auth(f),
                                     body: json(#"{"provider":"\#(unit)","item":"administrative-punishment","recordId":"CF-360100-2026-0","applicant":"a","statement":"b"}"#)) { r in
                #expect(r.status == .conflict && object(r.body)["code"] as? String == "too-early")
            }
            try await client.execute(uri: "/v1/records/administrative-punishment/CF-360100-2026-1/list-removal", method: .post, headers: auth(f),
                                     body: json(#"{"reason":"x","decisionDocument":"y"}"#)) { r in
                #expect(r.status == .conflict && object(r.body)["code"] as? String == "not-listed")
            }
            #expect(try f.service.store.logHead().size == logged, "refused requests logged nothing")

            // The home's own clerk handles the case; each step is pending until the hub returns it.
            try await client.execute(uri: "/v1/cases/\(caseId)/events", method: .post, headers: auth(f),
                                     body: json(#"{"event":"rejected","reason":"记载无误"}"#)) { r in
                #expect(r.status == .accepted && object(r.body)["case"] as? String == caseId)
            }
            try await client.execute(uri: "/v1/cases/\(caseId)", method: .get, headers: auth(f)) { r in
                #expect(r.status == .ok && object(r.body)["pending"] as? Bool == true)
                // The case and the pending items are what the OpenAPI document says they are.
                let rights = object(r.body)["record"] as? [String: Any] ?? [:]
                try expectDocumentedShape(object(r.body)["case"] as? [String: Any] ?? [:], of: "RightsCase")
                let pending = rights["pending"] as? [[String: Any]] ?? []
                #expect(!pending.isEmpty)
                for item in pending { try expectDocumentedShape(item, of: "PendingRights") }
                // The rejection is this node's, not yet the hub's: the case is not shown as decided.
                #expect((object(r.body)["case"] as? [String: Any])?["state"] as? String == "open", "\(String(buffer: r.body))")
                let record = object(r.body)["record"] as? [String: Any]
                #expect((record?["pending"] as? [[String: Any]])?.map { $0["event"] as? String } == ["filed", "rejected"])
            }
            try await client.execute(uri: "/v1/providers/\(unit)/records/administrative-punishment/CF-360100-2026-1?purpose=test", method: .get,
                                     headers: auth(f)) { r in
                let rights = object(r.body)["rights"] as? [String: Any]
                #expect(rights?["display"] as? String == "displayed" && (rights?["labels"] as? [String]) == [])
            }
        }
    }

    /// identifiers.md: a credit code is normalized before it is used, so a padded or lower-case
    /// spelling of the providing unit names the same record, for an objection and for a read.
    @Test func aProviderCodeAsAClientTypedItNamesTheSameRecord() throws {
        let f = try NodeFixture(readScope: .all)
        _ = try f.service.submit(f.punishments(0..<1), by: f.identity)
        let typed = " \(f.identity.unit.lowercased()) "
        let opened = try f.service.fileObjection(provider: typed, item: "administrative-punishment", recordId: "CF-360100-2026-0",
                                                 applicant: "某公司", grounds: "金额有误", by: f.identity)
        #expect(try f.service.rightsCase(opened.caseId, by: f.identity).rightsCase.recordKey.hasPrefix(f.identity.unit + "/"))
        let detail = try f.service.read(provider: typed, item: "administrative-punishment", recordId: "CF-360100-2026-0", purpose: "test", by: f.identity)
        #expect(detail.recordId == "CF-360100-2026-0" && detail.provider == f.identity.unit)
    }

    /// A case names its applicant and grounds, and case ids are guessable: a credential whose
    /// read scope does not cover the case's record is refused (a unit asked to check it reads it:
    /// `RightsFederationTests`, where the hub decides the check).
    @Test func aCaseIsNotReadByACredentialThatMayNotReadItsRecord() async throws {
        let f = try NodeFixture(readScope: .all)
        _ = try f.service.submit(f.punishments(0..<2), by: f.identity)
        // A desk of another unit, reading only its own records, takes the subject's application.
        let desk = try f.service.store.addCredential(name: "服务窗口", unit: try UnifiedSocialCreditCode.parse("113608000090000235"),
                                                     writeItems: nil, readScope: .own, at: NodeFixture.now).token
        let opened = try f.service.fileObjection(provider: f.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-1",
                                                 applicant: "某公司", grounds: "金额有误",
                                                 by: try #require(try f.service.store.authenticate(token: desk)))
        let stranger = try f.service.store.addCredential(name: "另一单位", unit: try UnifiedSocialCreditCode.parse("11360900009000015F"),
                                                         writeItems: nil, readScope: .own, at: NodeFixture.now).token
        let app = Application(router: ProviderAPI.router(service: f.service))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/cases/\(opened.caseId)", method: .get, headers: [.authorization: "Bearer \(stranger)"]) { r in
                #expect(r.status == .forbidden && object(r.body)["code"] as? String == "forbidden", "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/v1/cases/\(opened.caseId)", method: .get, headers: auth(f)) { r in
                #expect(r.status == .ok)
            }
            // The desk that filed it reads it.
            try await client.execute(uri: "/v1/cases/\(opened.caseId)", method: .get, headers: [.authorization: "Bearer \(desk)"]) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
        }
    }
}
