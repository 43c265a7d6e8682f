import CreditCore
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncProtocol
import SyncTransport
import Testing

/// The provider API in process, through Hummingbird's test client.
@Suite struct ProviderAPITests {
    func app(_ f: NodeFixture) -> some ApplicationProtocol {
        let router = ProviderAPI.router(service: f.service)
        return Application(router: router)
    }

    func body(_ value: some Encodable) -> ByteBuffer { ByteBuffer(bytes: try! JSONEncoder().encode(value)) }
    func auth(_ f: NodeFixture) -> HTTPFields { [.authorization: "Bearer \(f.token)", .contentType: "application/json"] }
    func object(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]) ?? [:]
    }

    @Test func healthReadinessAndMetrics() async throws {
        let f = try NodeFixture()
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            _ = try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(f.punishments(0..<2)))
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("creditsync_node_records_accepted_total 2"))
                #expect(text.contains("creditsync_node_log_size 2"))
                #expect(text.contains("creditsync_node_unpushed_changes 2"))
                #expect(text.contains("creditsync_node_oldest_unpushed_age_seconds"))
            }
        }
    }

    @Test func singleRecordAcceptedThenDuplicate() async throws {
        let f = try NodeFixture()
        let record = f.punishments(0..<1)[0]
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(record)) { r in
                #expect(r.status == .created)
                #expect(object(r.body)["status"] as? String == "accepted")
                #expect(object(r.body)["sequence"] as? Int == 1)
            }
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(record)) { r in
                #expect(r.status == .ok)
                #expect(object(r.body)["status"] as? String == "duplicate")
                #expect(object(r.body)["sequence"] as? Int == 1)
            }
        }
        #expect(try f.service.store.logHead().size == 1)
    }

    @Test func refusedWritesAreListedToTheirUnitAsTheHubSaidThem() async throws {
        let f = try NodeFixture()
        _ = try f.service.submit(f.punishments(0..<3), by: f.identity)
        let store = f.service.store
        let second = try Change(decoding: try #require(try store.changes(after: 1, limit: 1, maxBytes: .max).first))
        // The hub's word, as the pusher files it once it has opened the signed list.
        let list = RefusalList(node: f.service.node, after: 0, through: 3, acknowledged: 3, treeRoot: try store.logFrontier(through: 3).root.hex,
                               at: 0, incarnation: "00000000000000a1", refusals: [.init(sequence: 2, recordKey: second.key.description, code: "catalog-version",
                                                       field: "catalogVersion", message: "record \(second.key.recordId): a layer the hub does not hold",
                                                       receivedAt: 1_795_000_000_000)])
        #expect(try store.learnRefusals(list) == 1)
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/v1/refusals", method: .get, headers: auth(f)) { r in
                #expect(r.status == .ok)
                let page = object(r.body)
                #expect(page["learnedThrough"] as? Int == 3 && page["acknowledged"] as? Int == 0)
                let refusals = page["refusals"] as? [[String: Any]] ?? []
                #expect(refusals.count == 1)
                #expect(refusals.first?["sequence"] as? Int == 2 && refusals.first?["operation"] as? String == "create")
                #expect(refusals.first?["recordId"] as? String == second.key.recordId && refusals.first?["code"] as? String == "catalog-version")
                #expect(refusals.first?["field"] as? String == "catalogVersion")
                #expect(refusals.first?["refusedAt"] as? String == "2026-11-18T11:06:40Z")
            }
            try await client.execute(uri: "/v1/refusals?after=2", method: .get, headers: auth(f)) { r in
                #expect(r.status == .ok && (object(r.body)["refusals"] as? [Any])?.isEmpty == true)
            }
            for bad in ["x", "-1", "01x", "9223372036854775808"] {
                try await client.execute(uri: "/v1/refusals?after=\(bad)", method: .get, headers: auth(f)) { r in
                    #expect(r.status == .badRequest && object(r.body)["code"] as? String == "bad-request", "after=\(bad)")
                }
            }
            try await client.execute(uri: "/v1/refusals", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/metrics", method: .get) { #expect(String(buffer: $0.body).contains("creditsync_node_refused_writes 1")) }
        }
    }

    @Test func invalidRecordNamesRecordAndField() async throws {
        let f = try NodeFixture()
        guard case var .object(record) = f.punishments(0..<1)[0], case var .object(fields)? = record["fields"] else { return }
        fields["CF_NR_FK"] = .string("lots")
        record["fields"] = .object(fields)
        let invalid = JSONValue.object(record)
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(invalid)) { r in
                #expect(r.status == .unprocessableContent)
                let o = object(r.body)
                #expect(o["recordId"] as? String == "CF-360100-2026-0")
                let errors = o["errors"] as? [[String: Any]] ?? []
                #expect(errors.contains { $0["field"] as? String == "fields.CF_NR_FK" })
            }
        }
        #expect(try f.service.store.logHead().size == 0)
    }

    @Test func batchGivesPerRecordResults() async throws {
        let f = try NodeFixture()
        var records = f.punishments(0..<4)
        records[2] = .object(["item": .string("administrative-punishment"), "recordId": .string("bad")])
        let batch = records
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f),
                                     body: body(["records": JSONValue.array(batch)])) { r in
                #expect(r.status == .ok)
                let o = object(r.body)
                #expect(o["accepted"] as? Int == 3)
                #expect(o["rejected"] as? Int == 1)
                let results = o["results"] as? [[String: Any]] ?? []
                #expect(results[2]["status"] as? String == "rejected")
                #expect(results[2]["recordId"] as? String == "bad")
            }
        }
    }

    @Test func malformedOversizedAndUnauthorized() async throws {
        let f = try NodeFixture(limits: .init(maxBodyBytes: 4096, maxBatchRecords: 3))
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: ByteBuffer(string: "{\"item\": ")) { r in
                #expect(r.status == .badRequest)
                #expect(object(r.body)["code"] as? String == "bad-request")
            }
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: ByteBuffer(repeating: 32, count: 5000)) {
                #expect($0.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(Array(f.punishments(0..<4).prefix(4)).map { _ in JSONValue.null })) {
                #expect($0.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/records", method: .post, headers: [.authorization: "Bearer cs_nope_nope"], body: body(f.punishments(0..<1))) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/records", method: .post, body: body(f.punishments(0..<1))) {
                #expect($0.status == .unauthorized)
            }
        }
        #expect(try f.service.store.logHead().size == 0)
    }

    @Test func writesOutsideScopeAreRefused() async throws {
        let f = try NodeFixture(writeItems: ["administrative-permit"])
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(f.punishments(0..<1)[0])) { r in
                #expect(r.status == .unprocessableContent)
                #expect(String(buffer: r.body).contains("forbidden-item"))
            }
            try await client.execute(uri: "/v1/records/administrative-punishment/x/revoke", method: .post, headers: auth(f),
                                     body: body(["reason": "r", "decisionDocument": "d"])) { #expect($0.status == .forbidden) }
        }
    }

    @Test func correctRevokeAndReadHistoryWithAudit() async throws {
        let f = try NodeFixture()
        let record = f.punishments(0..<1)[0]
        let recordId = "CF-360100-2026-0"
        guard case var .object(changed) = record, case var .object(fields)? = changed["fields"] else { return }
        fields["CF_NR"] = .string("罚款1000元")
        changed["fields"] = .object(fields)
        let changedRecord = JSONValue.object(changed)
        try await app(f).test(.router) { client in
            _ = try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(record))
            // A correction without its reason is refused, naming the field.
            try await client.execute(uri: "/v1/records/administrative-punishment/\(recordId)/correct", method: .post, headers: auth(f),
                                     body: body(["record": changedRecord])) { r in
                #expect(r.status == .unprocessableContent)
                #expect(String(buffer: r.body).contains("decisionDocument"))
            }
            let correction: [String: JSONValue] = ["record": changedRecord, "reason": .string("复议变更罚款金额"),
                                                   "decisionDocument": .string("洪复决〔2026〕8号"),
                                                   "effectiveAt": .string("2026-11-19T09:00:00+08:00")]
            try await client.execute(uri: "/v1/records/administrative-punishment/\(recordId)/correct", method: .post, headers: auth(f),
                                     body: body(correction)) { #expect($0.status == .created) }
            // Retrying the same correction is idempotent.
            try await client.execute(uri: "/v1/records/administrative-punishment/\(recordId)/correct", method: .post, headers: auth(f),
                                     body: body(correction)) { r in
                #expect(r.status == .ok)
                #expect(object(r.body)["status"] as? String == "duplicate")
            }
            // The same content under another reason changes nothing: no new version here that the
            // hub would take as a duplicate and no other node would ever see.
            try await client.execute(uri: "/v1/records/administrative-punishment/\(recordId)/correct", method: .post, headers: auth(f),
                                     body: body(correction.merging(["reason": .string("依复议决定更正"), "decisionDocument": .string("洪复〔2026〕9号")]) { $1 })) { r in
                #expect(r.status == .conflict)
                #expect(object(r.body)["code"] as? String == "unchanged", "\(String(buffer: r.body))")
            }
            #expect(try f.service.store.record(RecordKey(provider: f.identity.unit, item: "administrative-punishment", recordId: recordId))?.version == 2)
            try await client.execute(uri: "/v1/records/administrative-punishment/\(recordId)/revoke", method: .post, headers: auth(f),
                                     body: body(["reason": "原决定被撤销", "decisionDocument": "洪复决〔2026〕9号"])) { #expect($0.status == .created) }
            // After revocation, a correction is refused.
            try await client.execute(uri: "/v1/records/administrative-punishment/\(recordId)/correct", method: .post, headers: auth(f),
                                     body: body(correction.merging(["reason": .string("again")]) { $1 })) { #expect($0.status == .conflict) }
            // Reading needs a purpose; with one, the full history comes back and is audited.
            try await client.execute(uri: "/v1/providers/\(f.identity.unit)/records/administrative-punishment/\(recordId)", method: .get, headers: auth(f)) {
                #expect($0.status == .badRequest)
            }
            // A purpose given twice is refused, and nothing is read or audited.
            try await client.execute(uri: "/v1/providers/\(f.identity.unit)/records/administrative-punishment/\(recordId)?purpose=核查&purpose=x",
                                     method: .get, headers: auth(f)) { r in
                #expect(r.status == .badRequest && String(buffer: r.body).contains("purpose is given more than once"), "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/v1/providers/\(f.identity.unit)/records/administrative-punishment/\(recordId)?purpose=核查", method: .get,
                                     headers: auth(f)) { r in
                #expect(r.status == .ok)
                let o = object(r.body)
                #expect(o["status"] as? String == "revoked")
                let history = o["history"] as? [[String: Any]] ?? []
                #expect(history.map { $0["operation"] as? String } == ["create", "correct", "revoke"])
                #expect(history[1]["reason"] as? String == "复议变更罚款金额")
                #expect(history[1]["decisionDocument"] as? String == "洪复决〔2026〕8号")
                try expectDocumentedShape(o, of: "RecordDetail")
                for version in history { try expectDocumentedShape(version, of: "RecordVersion") }
            }
        }
        let audit = try f.service.store.auditEntries()
        #expect(audit.count == 1)
        #expect(audit[0].purpose == "核查")
        #expect(audit[0].recordCount == 1)
        #expect(try f.service.store.logHead().size == 3)
    }

    @Test func subjectListingFollowsReadScope() async throws {
        let f = try NodeFixture(readScope: .own)
        let records = f.punishments(0..<3)
        try await app(f).test(.router) { client in
            _ = try await client.execute(uri: "/v1/records", method: .post, headers: auth(f), body: body(records))
            let subject = "uscc:\(f.generator.companyCode(1))"
            try await client.execute(uri: "/v1/subjects/\(subject)/records?purpose=审批", method: .get, headers: auth(f)) { r in
                #expect(r.status == .ok)
                let listed = object(r.body)["records"] as? [[String: Any]] ?? []
                #expect(listed.count == 1)
                for summary in listed { try expectDocumentedShape(summary, of: "RecordSummary") }
            }
            // The same subject typed in lower case, percent-encoded: one subject, not two.
            let typed = subject.lowercased().replacingOccurrences(of: ":", with: "%3A")
            try await client.execute(uri: "/v1/subjects/\(typed)/records?purpose=审批", method: .get, headers: auth(f)) { r in
                #expect(r.status == .ok)
                #expect(object(r.body)["subject"] as? String == subject)
                #expect((object(r.body)["records"] as? [Any])?.count == 1)
            }
            for bad in ["uscc:BAD", "foo:bar", "x"] {
                try await client.execute(uri: "/v1/subjects/\(bad)/records?purpose=审批", method: .get, headers: auth(f)) { r in
                    #expect(r.status == .badRequest, "\(bad)")
                }
                try await client.execute(uri: "/v1/subjects/\(bad)/report", method: .get, headers: auth(f)) { r in
                    #expect(r.status == .badRequest || r.status == .forbidden, "\(bad)")
                }
            }
        }
        let none = try f.service.store.addCredential(name: "n", unit: try UnifiedSocialCreditCode.parse("121200004013590816"), writeItems: nil, readScope: .none, at: NodeFixture.now)
        try await app(f).test(.router) { client in
            try await client.execute(uri: "/v1/subjects/x/records?purpose=p", method: .get, headers: [.authorization: "Bearer \(none.token)"]) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test func csvImportInUTF8AndGB18030() async throws {
        let f = try NodeFixture()
        let g = f.generator
        let header = "CF_XDR_MC,CF_XDR_LB,CF_XDR_SHXYM,CF_WSH,CF_WFXW,CF_SY,CF_YJ,CF_CFLB,CF_NR,CF_NR_FK,CF_JDRQ,CF_CFJG,CF_CFJGDM,CF_SJLY,CF_SJLYDM"
        func row(_ i: Int, fine: String = "0.2") -> String {
            "\(g.companyName(i)),法人及非法人组织,\(g.companyCode(i)),洪市监罚〔2026〕\(i)号,虚假宣传,\"当事人发布虚假广告，经查属实。\",《广告法》,罚款,罚款2000元,\(fine),2026-05-10,\(g.regulatorName),\(g.regulatorCode),\(g.regulatorName),\(g.regulatorCode)"
        }
        let csv = ([header] + (0..<3).map { row($0) } + [row(3, fine: "abc")]).joined(separator: "\r\n") + "\r\n"
        try await app(f).test(.router) { client in
            var headers = auth(f)
            headers[.contentType] = "text/csv; charset=utf-8"
            try await client.execute(uri: "/v1/records/import", method: .post, headers: headers, body: ByteBuffer(string: csv)) { r in
                #expect(r.status == .ok)
                let o = object(r.body)
                #expect(o["accepted"] as? Int == 3)
                let results = o["results"] as? [[String: Any]] ?? []
                #expect(results[3]["index"] as? Int == 5) // line 5 of the file
                #expect(String(describing: results[3]["errors"] ?? "").contains("CF_NR_FK"))
            }
            // The same file in GB18030, without a charset: detected, and every row a duplicate.
            let gb = try await gb18030(csv)
            headers[.contentType] = "text/csv"
            try await client.execute(uri: "/v1/records/import", method: .post, headers: headers, body: ByteBuffer(bytes: gb)) { r in
                #expect(r.status == .ok)
                #expect(object(r.body)["duplicate"] as? Int == 3)
            }
            try await client.execute(uri: "/v1/records/import", method: .post, headers: headers, body: ByteBuffer(string: "a,b\n\"x")) {
                #expect($0.status == .badRequest)
            }
        }
    }

    /// A NUL in a GB18030 export: the row is refused by its field, and the rows after it are not
    /// lost (the decoded text had ended at the NUL).
    @Test func aNulInAGB18030ExportIsRefusedByItsFieldAndLosesNoRow() async throws {
        let f = try NodeFixture()
        let g = f.generator
        let header = "CF_XDR_MC,CF_XDR_LB,CF_XDR_SHXYM,CF_WSH,CF_WFXW,CF_SY,CF_YJ,CF_CFLB,CF_NR,CF_NR_FK,CF_JDRQ,CF_CFJG,CF_CFJGDM,CF_SJLY,CF_SJLYDM"
        func row(_ i: Int, fact: String) -> String {
            "\(g.companyName(i)),法人及非法人组织,\(g.companyCode(i)),洪市监罚〔2026〕\(i)号,虚假宣传,\(fact),《广告法》,罚款,罚款2000元,0.2,2026-05-10,\(g.regulatorName),\(g.regulatorCode),\(g.regulatorName),\(g.regulatorCode)"
        }
        let csv = [header, row(0, fact: "当事人\u{0}发布虚假广告"), row(1, fact: "当事人发布虚假广告"), row(2, fact: "经查属实")]
            .joined(separator: "\r\n") + "\r\n"
        let bytes = try await gb18030(csv.replacingOccurrences(of: "\u{0}", with: "\u{1}")).map { $0 == 0x01 ? 0 : $0 }
        try await app(f).test(.router) { client in
            var headers = auth(f)
            headers[.contentType] = "text/csv; charset=gb18030"
            try await client.execute(uri: "/v1/records/import", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { r in
                let o = object(r.body)
                #expect(o["accepted"] as? Int == 2 && o["rejected"] as? Int == 1, "\(String(buffer: r.body))")
                #expect(String(buffer: r.body).contains("control-character"))
            }
        }
    }

    /// A permit export as the national template writes it, 当前状态 (XK_ZT) coded 1/2 (issue 13).
    @Test func aPermitExportWithCodedStatusIsAcceptedAndStoredByValue() async throws {
        let f = try NodeFixture()
        let g = f.generator
        let header = "XK_XDR_MC,XK_XDR_LB,XK_XDR_SHXYM,XK_XKWS,XK_WSH,XK_XKLB,XK_XKZS,XK_XKBH,XK_NR,XK_JDRQ,XK_YXQZ,XK_YXQZI,XK_XKJG,XK_XKJGDM,XK_ZT,XK_LYDW,XK_LYDWDM"
        func row(_ i: Int, state: String) -> String {
            "\(g.companyName(i)),法人及非法人组织,\(g.companyCode(i)),准予行政许可决定书,洪许字〔2026〕\(i)号,核准,食品经营许可证,JY\(i),准予食品经营许可,2026-05-10,2026-05-10,2031-05-09,\(g.regulatorName),\(g.regulatorCode),\(state),\(g.regulatorName),\(g.regulatorCode)"
        }
        let csv = [header, row(0, state: "1"), row(1, state: "2"), row(2, state: "有效")].joined(separator: "\r\n") + "\r\n"
        try await app(f).test(.router) { client in
            var headers = auth(f)
            headers[.contentType] = "text/csv; charset=utf-8"
            try await client.execute(uri: "/v1/records/import", method: .post, headers: headers, body: ByteBuffer(string: csv)) { r in
                #expect(object(r.body)["accepted"] as? Int == 3, "\(String(buffer: r.body))")
            }
        }
        let stored = try #require(try f.service.store.record(RecordKey(provider: f.identity.unit, item: "administrative-permit", recordId: "洪许字〔2026〕0号")))
        if case let .object(record) = stored.record, case let .object(fields)? = record["fields"] {
            #expect(fields["XK_ZT"] == .string("有效"))
        } else {
            Issue.record("no fields in \(stored.record)")
        }
    }

    /// Encodes text as GB18030 with iconv(1), as a provincial system's export would be.
    func gb18030(_ text: String) async throws -> [UInt8] {
        let data = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/iconv"), ["-f", "UTF-8", "-t", "GB18030"], input: Data(text.utf8)).output
        #expect(String(data: data, encoding: .utf8) == nil, "the GB18030 bytes must not also be valid UTF-8")
        return Array(data)
    }
}
