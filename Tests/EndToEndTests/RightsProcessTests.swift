import CreditCore
import CreditData
import CreditDeploy
import CreditTesting
import Foundation
import Testing

/// Credit subjects' rights with the real binary: a hub and three city nodes as processes, a
/// clerk at one city's desk using `creditsync rights` on another city's record, and the
/// subject's printed self-enquiry report checked against the hub's signature.
@Suite(.serialized) struct RightsProcessTests {
    /// The record as node `node`'s provider API shows it, read with that node's clerk token.
    func read(_ f: Federation, node: String, provider: String, recordId: String) async throws -> [String: Any] {
        let site = f.deployment.nodes.first { $0.id == node }!
        let reply = try await LoopbackHTTP.request(
            f.deployment.nodeURL(site) + "/v1/providers/\(provider)/records/administrative-punishment/\(recordId)?purpose=e2e",
            headers: ["Authorization": "Bearer \(f.tokens[node]!)"])
        return reply.status == 200 ? reply.json : [:]
    }

    /// Waits until every node shows what `check` looks for in the record's `rights`, or fails after 60 s.
    func waitEverywhere(_ f: Federation, provider: String, recordId: String, _ what: String,
                        check: ([String: Any]) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(60)
        var pending: [String] = []
        repeat {
            pending = []
            for node in f.deployment.nodes {
                let rights = try await read(f, node: node.id, provider: provider, recordId: recordId)["rights"] as? [String: Any] ?? [:]
                if !check(rights) { pending.append(node.id) }
            }
            if pending.isEmpty { return }
            try await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        Issue.record("\(what) not shown at \(pending) after 60 s")
    }

    func desk(_ f: Federation, _ node: String, _ dir: URL) throws -> [String] {
        let file = dir.appendingPathComponent("token-\(node)")
        try Data(f.tokens[node]!.utf8).write(to: file)
        let site = f.deployment.nodes.first { $0.id == node }!
        return ["--node", f.deployment.nodeURL(site), "--token-file", file.path]
    }

    @Test func anObjectionAtOneCityOnAnotherCitysRecordIsLabelledEverywhereHandledAndReported() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        let dir = try Fixtures.temporaryDirectory("rights-e2e")
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = SyntheticRecords(division: "360100")
        let records = (0..<10).map { g.punishment($0, decidedOn: CivilDate(year: 2026, month: 6, day: 1)!) }
        _ = try await f.submit(node: "360100", records: records)
        _ = try await f.waitForConvergence(expectedHubLog: 10)
        let provider = SyntheticRecords(division: "360100").regulatorCode
        let yichunUnit = SyntheticRecords(division: "360900").regulatorCode
        let target = records[3]

        // Ganzhou's desk files the subject's objection to a Nanchang record with the CLI.
        let filed = try await CLI.run(["rights", "object"] + desk(f, "360700", dir) + ["--provider", provider, "--item", target.item,
                                 "--record-id", target.recordId, "--applicant", target.subject.name, "--grounds", "处罚金额记载有误"])
        #expect(filed.status == 0, "\(filed.stderr)")
        let caseId = try #require((try? JSONSerialization.jsonObject(with: Data(filed.stdout.utf8)) as? [String: Any])?["case"] as? String)
        #expect(caseId == "360700-1")
        let again = try await CLI.run(["rights", "object"] + desk(f, "360700", dir) + ["--provider", provider, "--item", target.item,
                                "--record-id", target.recordId, "--applicant", target.subject.name, "--grounds", "again"])
        #expect(again.status == 1 && again.stderr.contains("duplicate-application"), "\(again.stderr)")

        try await waitEverywhere(f, provider: provider, recordId: target.recordId, "the objection label") {
            ($0["labels"] as? [String]) == ["objection"]
        }
        let labelled = try await f.status(windows: "all").rights.first { $0.caseId == caseId && $0.name.rawValue == "objection-label" }
        #expect(labelled?.state.rawValue == "met")

        // The providing unit asks Yichun's regulator to check; Yichun answers at its own desk; Nanchang decides.
        let checks = try await CLI.run(["rights", "step"] + desk(f, "360100", dir) + [caseId, "checks", "--unit", yichunUnit])
        #expect(checks.status == 0, "\(checks.stderr)")
        let deadline = Date().addingTimeInterval(60)
        var checked = try await CLI.run(["rights", "step"] + desk(f, "360900", dir) + [caseId, "checked", "--finding", "核查：金额记载无误"])
        while checked.status != 0, Date() < deadline {
            // Until the fan-out brings the checks to Yichun, its desk answers not-checker.
            try await Task.sleep(for: .milliseconds(200))
            checked = try await CLI.run(["rights", "step"] + desk(f, "360900", dir) + [caseId, "checked", "--finding", "核查：金额记载无误"])
        }
        #expect(checked.status == 0, "\(checked.stderr)")
        let forbidden = try await CLI.run(["rights", "step"] + desk(f, "360700", dir) + [caseId, "rejected", "--reason", "x"])
        #expect(forbidden.status == 1 && forbidden.stderr.contains("403"), "\(forbidden.stderr)")
        var decided = try await CLI.run(["rights", "step"] + desk(f, "360100", dir) + [caseId, "rejected", "--reason", "经核查记载无误"])
        while decided.status != 0, decided.stderr.contains("not-checker") || decided.stderr.contains("unknown-case"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            decided = try await CLI.run(["rights", "step"] + desk(f, "360100", dir) + [caseId, "rejected", "--reason", "经核查记载无误"])
        }
        #expect(decided.status == 0, "\(decided.stderr)")
        try await waitEverywhere(f, provider: provider, recordId: target.recordId, "the rejected outcome") { rights in
            let cases = rights["cases"] as? [[String: Any]] ?? []
            return (rights["labels"] as? [String]) == [] && cases.first?["state"] as? String == "rejected"
        }
        let windows = try await f.status(windows: "all").rights.filter { $0.caseId == caseId }
        #expect(Set(windows.map(\.name.rawValue)) == ["objection-label", "objection-handling", "objection-check"])
        #expect(windows.allSatisfy { $0.state.rawValue == "met" }, "\(windows.map { "\($0.name) \($0.state)" })")

        // The subject's self-enquiry at Yichun: JSON and a printed PDF, checked later with the hub's key.
        let subject = "uscc:\(target.subject.uscc!)"
        let json = dir.appendingPathComponent("report.json"), pdf = dir.appendingPathComponent("report.pdf")
        let report = try await CLI.run(["report"] + desk(f, "360900", dir) + ["--subject", subject, "--json", json.path, "--pdf", pdf.path])
        #expect(report.status == 0, "\(report.stderr)")
        let saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect((saved["verification"] as? [String: Any])?["status"] as? String == "verified", "\(saved["verification"] ?? "")")
        #expect((saved["records"] as? [[String: Any]])?.contains { (($0["record"] as? [String: Any])?["recordId"] as? String) == target.recordId } == true)
        let verify = try await CLI.run(["report", "verify", "--hub-key", f.deployment.hubPublicKey.path, json.path])
        #expect(verify.status == 0 && verify.stdout.hasPrefix("verified"), "\(verify.stdout)\(verify.stderr)")
        // A report altered after the fact no longer matches the hub's signed account.
        let text = try String(contentsOf: json, encoding: .utf8)
        let hash = try #require(((saved["records"] as? [[String: Any]])?.first?["record"] as? [String: Any])?["contentHash"] as? String)
        try Data(text.replacingOccurrences(of: hash, with: String(repeating: "0", count: 64)).utf8).write(to: json)
        let tampered = try await CLI.run(["report", "verify", "--hub-key", f.deployment.hubPublicKey.path, json.path])
        #expect(tampered.status == 1 && tampered.stdout.contains("differing"), "\(tampered.stdout)\(tampered.stderr)")
        // So does one whose record content or cases were edited with its content hash left as it
        // was: the content is hashed again, and the cases compared with the signed ones.
        for (what, from, to) in [("the subject's name in the record", target.subject.name, target.subject.name + "（已更正）"),
                                 ("the case's state", #""state":"rejected""#, #""state":"upheld""#),
                                 ("the case's state", #""state" : "rejected""#, #""state" : "upheld""#)] where text.contains(from) {
            try Data(text.replacingOccurrences(of: from, with: to).utf8).write(to: json)
            let edited = try await CLI.run(["report", "verify", "--hub-key", f.deployment.hubPublicKey.path, json.path])
            #expect(edited.status == 1 && edited.stdout.contains("differing"), "\(what): \(edited.stdout)\(edited.stderr)")
        }
        #expect(text.contains(#""state":"rejected""#) || text.contains(#""state" : "rejected""#), "the report carries the case")
        // A report holding a member twice (an empty list of records beside the real one) is
        // refused, whichever of the two a JSON library would keep.
        let brace = try #require(text.firstIndex(of: "{"))
        try Data((String(text[...brace]) + #""records":[],"# + String(text[text.index(after: brace)...])).utf8).write(to: json)
        let doubled = try await CLI.run(["report", "verify", "--hub-key", f.deployment.hubPublicKey.path, json.path])
        #expect(doubled.status != 0 && (doubled.stdout + doubled.stderr).contains("appears twice"), "\(doubled.stdout)\(doubled.stderr)")

        #expect(try Data(contentsOf: pdf).prefix(5) == Data("%PDF-".utf8))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext") {
            let extracted = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), ["-enc", "UTF-8", pdf.path, "-"])
            #expect(extracted.stdout.contains("公共信用信息报告"), "\(extracted.stdout.prefix(500))")
            #expect(extracted.stdout.contains(target.subject.name) && extracted.stdout.contains(target.recordId))
            #expect(extracted.stdout.contains("异议不成立"))
            // Chromium embeds the Noto CJK glyphs it drew (as Type 3 fonts), each with a map back
            // to Unicode: the text above was read from those maps, not guessed.
            let fonts = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/pdffonts"), [pdf.path])
            let rows = fonts.stdout.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ").map(String.init) }
            #expect(!rows.isEmpty && rows.allSatisfy { $0.count >= 5 && $0[$0.count - 5] == "yes" && $0[$0.count - 3] == "yes" }, "\(fonts.stdout)")
        }
    }
}
