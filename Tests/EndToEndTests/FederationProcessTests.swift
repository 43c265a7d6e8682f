import CreditCore
import CreditData
import CreditDeploy
import CreditHub
import CreditNode
import CreditStorage
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// The real binary: a hub and 3 nodes as processes on loopback.
@Suite(.serialized) struct FederationProcessTests {
    func records(_ node: String, _ range: Range<Int>) -> [CreditRecord] {
        var g = SyntheticRecords(division: node)
        let date = CivilDate(year: 2026, month: 6, day: 1)!
        return range.map { g.punishment($0, decidedOn: date) }
    }

    @Test func writesConvergeAndACorrectionReachesEveryNode() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        for node in f.deployment.nodes { _ = try await f.submit(node: node.id, records: records(node.id, 0..<50)) }
        var changed = records("360100", 3..<4)[0]
        changed.fields["CF_NR"] = .string("罚款500元")
        #expect(try await f.amend(node: "360100", item: changed.item, recordId: changed.recordId, action: "correct", body: [
            "record": try JSONSerialization.jsonObject(with: JSONEncoder().encode(changed)), "reason": "复议变更", "decisionDocument": "赣复决〔2026〕1号"]) == 201)
        #expect(try await f.amend(node: "360100", item: "administrative-punishment", recordId: "CF-360100-2026-4", action: "revoke",
                                  body: ["reason": "撤销", "decisionDocument": "赣撤决〔2026〕1号"]) == 201)
        let status = try await f.waitForConvergence(expectedHubLog: 152)
        #expect(status.records == 150)
        #expect(try f.checkConvergence().isEmpty)
        let windows = try await f.status().corrections
        #expect(status.windowCounts["fix-copies/met"] == 2)
        #expect(windows.allSatisfy { $0.row.completedAt != nil })
        // The operator's check, as a Nagios-style command runs it: every window met, exit 0.
        let check = try await CLI.run(["status", "--hub", f.deployment.hubOperatorURL]) // deploy init sets no operator token
        #expect(check.status == 0 && check.stdout.contains("Article 41 windows: fix-copies/met=2 reach-hub/met=2"), "\(check.status) \(check.stdout) \(check.stderr)")
        let copy = try NodeStore(path: f.deployment.nodeDirectory("360900").appendingPathComponent("node.sqlite").path, role: .operator)
            .record(RecordKey(provider: SyntheticRecords(division: "360100").regulatorCode, item: "administrative-punishment", recordId: "CF-360100-2026-4"))
        #expect(copy?.status == "revoked")
    }

    @Test func aNodeKilledDuringPushesLosesAndDuplicatesNothing() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        var acknowledged = 0
        for batch in 0..<10 {
            acknowledged += try await f.submit(node: "360100", records: records("360100", batch * 200..<(batch + 1) * 200)).accepted
            if batch == 4 {
                // The pusher is busy with the first 1,000: kill it without warning and restart it.
                try await Task.sleep(for: .milliseconds(30))
                f.kill9(node: "360100")
                try f.startNode("360100")
                try await f.waitUntilHealthy()
            }
        }
        #expect(acknowledged == 2000)
        let status = try await f.waitForConvergence(expectedHubLog: 2000)
        #expect(status.hubLogSize == 2000)
        #expect(status.records == 2000)
        #expect(status.equivocations == 0)
        #expect(try f.checkConvergence().isEmpty)
        let verify = try await CLI.run(["node", "verify", "--db", f.deployment.nodeDirectory("360100").appendingPathComponent("node.sqlite").path,
                                  "--hub-key", f.deployment.hubPublicKey.path])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test func theHubKilledAndRestartedLosesNothing() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        _ = try await f.submit(node: "360700", records: records("360700", 0..<300))
        try await Task.sleep(for: .milliseconds(20))
        f.kill9Hub()
        // Nodes keep accepting while the hub is down.
        _ = try await f.submit(node: "360700", records: records("360700", 300..<400))
        _ = try await f.submit(node: "360900", records: records("360900", 0..<100))
        try f.startHub()
        try await f.waitUntilHealthy()
        let status = try await f.waitForConvergence(expectedHubLog: 500)
        #expect(status.records == 500)
        #expect(status.equivocations == 0)
        #expect(try f.checkConvergence().isEmpty)
    }

    @Test func aNodeOfflineWhileOthersWriteCatchesUp() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        f.nodeProcesses["360900"]?.terminate()
        await f.nodeProcesses["360900"]?.exited()
        // Its long-poll was cut by the stop: that is logged as the stop, not as a failure to retry.
        let log = try String(contentsOf: f.logs.appendingPathComponent("node-360900.log"), encoding: .utf8)
        #expect(log.contains("stopped") && !log.contains("CancellationError") && !log.contains("failed; retrying"), "\(log.suffix(2000))")
        _ = try await f.submit(node: "360100", records: records("360100", 0..<100))
        _ = try await f.submit(node: "360700", records: records("360700", 0..<100))
        // Wait (without a fixed sleep) until the hub holds both nodes' writes.
        for _ in 0..<600 where try await f.status().hubLogSize < 200 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await f.status().nodes.first { $0.id == "360900" }?.lagChanges == 200)
        try f.startNode("360900")
        try await f.waitUntilHealthy()
        _ = try await f.waitForConvergence(expectedHubLog: 200)
        #expect(try f.checkConvergence().isEmpty)
    }

    @Test func aForgedChangeSetPostedToTheHubChangesNothing() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        _ = try await f.submit(node: "360100", records: records("360100", 0..<10))
        let before = try await f.waitForConvergence(expectedHubLog: 10)
        // Signed by a key the hub never enrolled, claiming to be 360100's next changes.
        let forger = SigningKey()
        let forged = try SyncFixtures.changeSet(node: "360100", key: forger, count: 3).0.encoded
        let target = "/v1/nodes/360100/changesets"
        func post(signedBy key: SigningKey) async throws -> LoopbackHTTP.Reply {
            let header = try RequestSignature.header(node: "360100", key: key, method: "POST", target: target, body: forged, now: Date())
            return try await LoopbackHTTP.request(f.deployment.hubURL + target, method: "POST",
                                                  headers: ["Content-Type": "application/vnd.creditsync.envelope", "Authorization": header],
                                                  body: Data(forged))
        }
        // The request itself is signed by the forger: refused before the envelope is read.
        let unsigned = try await LoopbackHTTP.request(f.deployment.hubURL + target, method: "POST",
                                                      headers: ["Content-Type": "application/vnd.creditsync.envelope"], body: Data(forged))
        #expect(unsigned.status == 401 && unsigned.json["code"] as? String == "unauthorized")
        let forgedRequest = try await post(signedBy: forger)
        #expect(forgedRequest.status == 401 && forgedRequest.json["code"] as? String == "unauthorized")
        // Sent with 360100's own request key (a stolen transport credential), the envelope's
        // signature is still checked against the enrolled key.
        let nodeKey = try KeyFile.readPrivate(f.deployment.nodeDirectory("360100").appendingPathComponent("node.key"))
        let reply = try await post(signedBy: nodeKey)
        #expect(reply.status == 403)
        #expect(reply.json["code"] as? String == "untrusted-key")
        let after = try await f.status()
        #expect(after.hubLogSize == before.hubLogSize && after.records == before.records)
        #expect(try f.checkConvergence().isEmpty)
    }

    /// A write the node accepted and the hub refused reaches its provider through the real CLI:
    /// a unit of Nanchang given a credential at Ganzhou's node (`--outside-area`) although the
    /// hub operator never widened that node's area, so the hub refuses it `not-in-area`.
    @Test func aWriteTheHubRefusedIsListedToItsProvider() async throws {
        let f = try await Federation.started(nodes: ["360100", "360700"])
        defer { f.tearDown() }
        let unit = SyntheticRecords(division: "360100").regulatorCode
        let added = try await CLI.run(["node", "provider", "add", "--config", f.deployment.nodeConfig("360700").path, "--outside-area",
                                       "--name", "南昌某局", "--unit", unit])
        #expect(added.status == 0, "\(added.stderr)")
        let token = try #require(added.stdout.split(whereSeparator: \.isNewline).last.map(String.init))
        let tokenFile = f.deployment.directory.appendingPathComponent("nanchang-at-ganzhou.token")
        try Data((token + "\n").utf8).write(to: tokenFile)
        let ganzhou = f.deployment.nodeURL(f.deployment.nodes.first { $0.id == "360700" }!)
        let written = try await LoopbackHTTP.request(ganzhou + "/v1/records", method: "POST",
                                                     headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                                     body: try JSONEncoder().encode(records("360100", 0..<1)[0]))
        #expect(written.status == 201 && written.json["sequence"] as? Int == 1, "\(written.body)")
        _ = try await f.submit(node: "360700", records: records("360700", 0..<3))

        // The node learns the hub's word within seconds; the provider reads it with the CLI.
        var page: [String: Any] = [:]
        for _ in 0..<300 {
            let listed = try await CLI.run(["refused", "--node", ganzhou, "--token-file", tokenFile.path])
            #expect(listed.status == 0, "\(listed.stderr)")
            page = (try? JSONSerialization.jsonObject(with: listed.output) as? [String: Any]) ?? [:]
            if page["learnedThrough"] as? Int == 4 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(page["learnedThrough"] as? Int == 4, "\(page)")
        let refusals = page["refusals"] as? [[String: Any]] ?? []
        #expect(refusals.count == 1, "\(page)")
        #expect(refusals.first?["sequence"] as? Int == 1 && refusals.first?["code"] as? String == "not-in-area")
        #expect(refusals.first?["field"] as? String == "provider" && refusals.first?["recordId"] as? String == "CF-360100-2026-0")
        // Ganzhou's own unit wrote nothing the hub refused.
        let own = f.deployment.directory.appendingPathComponent("ganzhou.token")
        try Data((try #require(f.tokens["360700"]) + "\n").utf8).write(to: own)
        let ownPage = try await CLI.run(["refused", "--node", ganzhou, "--token-file", own.path])
        #expect(ownPage.status == 0 && ownPage.stdout.contains("\"refusals\":[]"), "\(ownPage.stdout)")
    }
}

/// Backups taken while the daemons run, restored into place.
@Suite(.serialized) struct BackupRestoreTests {
    func records(_ node: String, _ range: Range<Int>) -> [CreditRecord] {
        var g = SyntheticRecords(division: node)
        return range.map { g.punishment($0, decidedOn: CivilDate(year: 2026, month: 6, day: 1)!) }
    }

    @Test func aNodeRestoredFromAnOlderBackupCatchesUp() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        let db = f.deployment.nodeDirectory("360700").appendingPathComponent("node.sqlite").path
        _ = try await f.submit(node: "360700", records: records("360700", 0..<100))
        _ = try await f.waitForConvergence(expectedHubLog: 100)
        let backup = f.deployment.directory.appendingPathComponent("node-360700.backup").path
        let taken = try await CLI.run(["backup", "--db", db, "--out", backup])
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stdout.contains("integrity ok"))
        _ = try await f.submit(node: "360700", records: records("360700", 100..<150))
        _ = try await f.submit(node: "360100", records: records("360100", 0..<50))
        _ = try await f.waitForConvergence(expectedHubLog: 200)

        f.nodeProcesses["360700"]?.terminate()
        await f.nodeProcesses["360700"]?.exited()
        let restored = try await CLI.run(["restore", "--backup", backup, "--db", db])
        #expect(restored.status == 0, "\(restored.stderr)")
        try f.startNode("360700")
        try await f.waitUntilHealthy()
        _ = try await f.waitForConvergence(expectedHubLog: 200)
        #expect(try f.checkConvergence().isEmpty)
        // Its own records written after the backup are back, and new writes continue the log.
        #expect(try await f.submit(node: "360700", records: records("360700", 150..<160)).accepted == 10)
        let status = try await f.waitForConvergence(expectedHubLog: 210)
        #expect(status.equivocations == 0)
        #expect(try f.checkConvergence().isEmpty)
    }

    @Test func aHubRestoredFromAnOlderBackupIsRefedByTheNodes() async throws {
        let f = try await Federation.started()
        defer { f.tearDown() }
        let db = f.deployment.directory.appendingPathComponent("hub/hub.sqlite").path
        _ = try await f.submit(node: "360100", records: records("360100", 0..<60))
        _ = try await f.waitForConvergence(expectedHubLog: 60)
        let backup = f.deployment.directory.appendingPathComponent("hub.backup").path
        #expect(try await CLI.run(["backup", "--db", db, "--out", backup]).status == 0)
        _ = try await f.submit(node: "360700", records: records("360700", 0..<40))
        _ = try await f.waitForConvergence(expectedHubLog: 100)
        // Checked against the live hub: the pinned head is a prefix of its log, its copy of the node's log the same.
        let nodeConfig = f.deployment.nodeConfig("360100").path
        let verified = try await CLI.run(["node", "verify", "--config", nodeConfig])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("live hub: pinned hub head 100 is a prefix of the live log"), "\(verified.stdout)")
        #expect(verified.stdout.contains("live hub: the hub holds this node's first 60 changes with the same root"), "\(verified.stdout)")

        f.hubProcess?.terminate()
        await f.hubProcess?.exited()
        #expect(try await CLI.run(["restore", "--backup", backup, "--db", db]).status == 0)
        try f.startHub()
        try await f.waitUntilHealthy()
        // Nothing is written now: the nodes notice the hub is behind them and re-feed it.
        let status = try await f.waitForConvergence(expectedHubLog: 100)
        #expect(status.records == 100)
        #expect(try f.checkConvergence().isEmpty)
        let after = try await CLI.run(["node", "verify", "--config", nodeConfig])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }
}
