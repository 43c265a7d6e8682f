import CreditCore
import CreditData
import CreditDeploy
import CreditTesting
import Foundation
import SyncProtocol
import Synchronization
import Testing

/// The real node binary as a process: it serves providers with the hub unreachable, and a
/// `kill -9` in the middle of a stream of batches loses nothing that was acknowledged and
/// leaves nothing half-written.
@Suite(.serialized) struct NodeProcessTests {
    func records(_ node: String, _ range: Range<Int>) -> Data {
        var g = SyntheticRecords(division: node)
        let date = CivilDate(year: 2026, month: 6, day: 1)!
        return try! JSONEncoder().encode(range.map { g.punishment($0, decidedOn: date) })
    }

    @Test func killNineMidBatchLosesNothingAcknowledged() async throws {
        let dir = try Fixtures.temporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The hub is down for the whole test: the node must keep serving providers.
        let sandbox = try await NodeSandbox.withoutHub(in: dir, node: "360100")
        var daemon = try sandbox.start()
        try await LoopbackHTTP.waitUntilUp(sandbox.url + "/healthz")

        let batchSize = 200
        var acknowledged: [Int] = []
        let progress = Mutex(0)
        // Stream batches; kill the daemon while one is in flight.
        let sender = Task {
            var done: [Int] = []
            for batch in 0..<1000 {
                guard let reply = try? await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: sandbox.auth,
                                                                  body: records("360100", batch * batchSize..<(batch + 1) * batchSize)),
                      reply.status == 200 else { break }
                #expect(reply.json["accepted"] as? Int == batchSize)
                done.append(batch)
                progress.withLock { $0 += 1 }
            }
            return done
        }
        // Once a few batches are acknowledged, kill it at a moment that falls inside another batch.
        for _ in 0..<600 where progress.withLock({ $0 }) < 3 { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(Int.random(in: 5...60)))
        daemon.kill9()
        // The next request may be waiting for a connection, which the HTTP client keeps retrying
        // until its timeout: cancel it. An answer that arrives now is still counted; one cut off
        // leaves its batch to the all-or-nothing check below.
        sender.cancel()
        acknowledged = await sender.value
        #expect(acknowledged.count >= 1, "\(daemon.output)")

        // Restart on the same data folder.
        daemon = try sandbox.start()
        defer { _ = daemon.terminate() }
        try await LoopbackHTTP.waitUntilUp(sandbox.url + "/healthz")

        // Every acknowledged batch is there in full: resubmitting it logs nothing new.
        for batch in acknowledged {
            let reply = try await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: sandbox.auth,
                                                       body: records("360100", batch * batchSize..<(batch + 1) * batchSize))
            #expect(reply.json["duplicate"] as? Int == batchSize, "batch \(batch): \(reply.body.prefix(300))")
        }
        // The batch in flight was all-or-nothing.
        let next = acknowledged.count
        let reply = try await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: sandbox.auth,
                                                   body: records("360100", next * batchSize..<(next + 1) * batchSize))
        let accepted = reply.json["accepted"] as? Int ?? -1, duplicate = reply.json["duplicate"] as? Int ?? -1
        #expect((accepted == batchSize && duplicate == 0) || (accepted == 0 && duplicate == batchSize), "\(reply.body.prefix(300))")

        // The log holds each record exactly once and verifies offline.
        let metrics = try await LoopbackHTTP.request(sandbox.url + "/metrics")
        #expect(metrics.body.contains("creditsync_node_log_size \((next + 1) * batchSize)"))
        let verify = try await CLI.run(["node", "verify", "--db", sandbox.database])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("log: \((next + 1) * batchSize) changes"))
    }

    /// The head of a record upload declaring `length` bytes, and the first bytes of its body.
    static func partialUpload(token: String, declaring length: Int) -> String {
        "POST /v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(length)\r\n\r\n[{"
    }

    /// A node of 360700 with no hub, started with `limits` (the members of its `limits` setting).
    static func startedNode(in dir: URL, limits: String) async throws -> (NodeSandbox, DaemonProcess) {
        let sandbox = try await NodeSandbox.withoutHub(in: dir, node: "360700")
        let config = try String(contentsOf: sandbox.config, encoding: .utf8)
        try Data(config.replacingOccurrences(of: #""push": {"#, with: "\"limits\": {\(limits)}, \"push\": {").utf8).write(to: sandbox.config)
        let daemon = try sandbox.start()
        try await LoopbackHTTP.waitUntilUp(sandbox.url + "/healthz")
        return (sandbox, daemon)
    }

    /// One synthetic record of 360700 as a provider posts it, and the headers that post it.
    static func upload(_ sandbox: NodeSandbox) throws -> (body: Data, headers: [String: String]) {
        var g = SyntheticRecords(division: "360700")
        return (try JSONEncoder().encode(g.punishment(1, decidedOn: CivilDate(year: 2026, month: 6, day: 1)!)),
                ["Authorization": "Bearer \(sandbox.token)", "Content-Type": "application/json"])
    }

    /// A client that opens connections and goes silent — half a request head, or nothing — does
    /// not keep them: the daemon closes them after ServerLimits.idleTimeout (30 s), so sockets held
    /// open cannot use up its file descriptors (a hostile-peer review had 20,000 held at the hub).
    @Test func silentConnectionsAreClosed() async throws {
        let dir = try Fixtures.temporaryDirectory("idle")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sandbox = try await NodeSandbox.withoutHub(in: dir, node: "360700")
        let daemon = try sandbox.start()
        defer { _ = daemon.terminate() }
        try await LoopbackHTTP.waitUntilUp(sandbox.url + "/healthz")
        let sockets = [try RawConnection.open(to: sandbox.port, sending: "GET /healthz HTTP/1.1\r\n", timeout: 60),
                       try RawConnection.open(to: sandbox.port, sending: "", timeout: 60)]
        let started = ContinuousClock.now
        for fd in sockets {
            // 0: the daemon closed it; -1: still open after 60 s. A blocking read: on a thread of its own.
            let n = try await ChildProcess.onOwnThread { () -> Int in
                var byte: UInt8 = 0
                return recv(fd, &byte, 1, 0)
            }
            close(fd)
            #expect(n == 0, "a silent connection was kept open")
        }
        #expect(ContinuousClock.now - started < .seconds(50))
        #expect(try await LoopbackHTTP.request(sandbox.url + "/healthz").body == "ok\n")
    }

    /// Request bodies wait for one of the node's permits (`limits.concurrentBodies`), and a body
    /// that trickles in is cut off at `limits.bodySeconds` with 408 `too-slow`, freeing its permit:
    /// a provider's many connections cannot hold the node's memory, nor a slow one its writes.
    @Test func bodiesWaitForAPermitAndASlowBodyIsCutOff() async throws {
        let dir = try Fixtures.temporaryDirectory("permits")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (sandbox, daemon) = try await Self.startedNode(in: dir, limits: #""concurrentBodies": 1, "bodySeconds": 2"#)
        defer { _ = daemon.terminate() }

        // A client that declares 1,000 bytes and sends 2: it holds the only permit.
        let slow = try RawConnection.open(to: sandbox.port, sending: Self.partialUpload(token: sandbox.token, declaring: 1000), timeout: 20)
        defer { close(slow) }
        try await Task.sleep(for: .milliseconds(300))

        // A whole record sent meanwhile waits for that permit, then is written.
        let (record, headers) = try Self.upload(sandbox)
        let started = ContinuousClock.now
        let written = try await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: headers, body: record)
        let waited = ContinuousClock.now - started
        #expect(written.status == 201, "\(written.body)")
        #expect(waited > .milliseconds(1200), "the record did not wait for the permit: \(String(describing: waited))")
        #expect(waited < .seconds(15))

        // The slow client got its answer: 408 too-slow.
        let text = try await RawConnection.answer(slow)
        #expect(text.hasPrefix("HTTP/1.1 408") && text.contains("too-slow"), "\(text)")
    }

    /// A request that cannot have a permit within `limits.permitWaitSeconds` is answered 503
    /// `busy` with Retry-After, before the listener's idle timeout would close it without a word
    /// (a review had queued uploads reset at 30 s).
    @Test func aRequestThatWaitsTooLongIsToldToComeBack() async throws {
        let dir = try Fixtures.temporaryDirectory("busy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (sandbox, daemon) = try await Self.startedNode(in: dir, limits: #""concurrentBodies": 1, "bodySeconds": 4, "permitWaitSeconds": 1"#)
        defer { _ = daemon.terminate() }
        let slow = try RawConnection.open(to: sandbox.port, sending: Self.partialUpload(token: sandbox.token, declaring: 1000), timeout: 20)
        defer { close(slow) }
        try await Task.sleep(for: .milliseconds(300))

        let (record, headers) = try Self.upload(sandbox)
        let busy = try await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: headers, body: record)
        #expect(busy.status == 503 && busy.json["code"] as? String == "busy", "\(busy.status) \(busy.body)")
        #expect(busy.headers["Retry-After"] ?? busy.headers["retry-after"] == "5", "\(busy.headers)")
        // Once the slow body is cut off (408), the same record is written.
        try await Task.sleep(for: .seconds(4))
        let written = try await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: headers, body: record)
        #expect(written.status == 201, "\(written.body)")

        // A body declared over the limit takes no permit while the node waits for 17 MiB that
        // may never come: a record sent meanwhile is answered at once. The large one is refused
        // 413 (what it sent read and dropped) when its time is up.
        let large = try RawConnection.open(to: sandbox.port, sending: Self.partialUpload(token: sandbox.token, declaring: 17 << 20), timeout: 15)
        defer { close(large) }
        try await Task.sleep(for: .milliseconds(300))
        let meanwhile = try await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: headers, body: record)
        #expect(meanwhile.status == 200, "\(meanwhile.status) \(meanwhile.body)")   // the same record again: a duplicate
        let text = try await RawConnection.answer(large)
        #expect(text.hasPrefix("HTTP/1.1 413") && text.contains("too-large"), "\(text)")
    }

    /// A port another process holds fails the start with the address in words.
    @Test func aTakenPortIsNamed() async throws {
        let dir = try Fixtures.temporaryDirectory("taken")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sandbox = try await NodeSandbox.withoutHub(in: dir, node: "360700")
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        let bound = RawConnection.loopback(port: sandbox.port) { bind(holder, $0, $1) }
        try #require(bound == 0 && listen(holder, 1) == 0)
        let daemon = try sandbox.start()
        await daemon.process.exited()
        #expect(daemon.process.terminationStatus != 0)
        #expect(daemon.output.contains("cannot listen on 127.0.0.1:\(sandbox.port): Address already in use"), "\(daemon.output)")
    }

    @Test func sigtermShutsDownGracefully() async throws {
        let dir = try Fixtures.temporaryDirectory("term")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sandbox = try await NodeSandbox.withoutHub(in: dir, node: "360700")
        let daemon = try sandbox.start()
        try await LoopbackHTTP.waitUntilUp(sandbox.url + "/healthz")
        let reply = try await LoopbackHTTP.request(sandbox.url + "/v1/records", method: "POST", headers: sandbox.auth, body: records("360700", 0..<10))
        #expect(reply.status == 200)
        // The hub is unreachable: the pusher is backing off, and the shutdown must not wait it out.
        try await Task.sleep(for: .seconds(3))
        let stopping = ContinuousClock.now
        #expect(daemon.terminate() == 0, "\(daemon.output)")
        #expect(ContinuousClock.now - stopping < .seconds(3), "the node waited out its back-off before stopping")
        #expect(try await CLI.run(["node", "verify", "--db", sandbox.database]).status == 0)
    }

    @Test func submitUploadsResumesAndWritesAFixableRejectsFile() async throws {
        let dir = try Fixtures.temporaryDirectory("submit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sandbox = try await NodeSandbox.withoutHub(in: dir, node: "360400")
        let daemon = try sandbox.start()
        defer { _ = daemon.terminate() }
        try await LoopbackHTTP.waitUntilUp(sandbox.url + "/healthz")
        let tokenFile = dir.appendingPathComponent("token")
        try Data(sandbox.token.utf8).write(to: tokenFile)

        let g = SyntheticRecords(division: "360400")
        let header = "CF_XDR_MC,CF_XDR_LB,CF_XDR_SHXYM,CF_WSH,CF_WFXW,CF_SY,CF_YJ,CF_CFLB,CF_NR,CF_NR_FK,CF_JDRQ,CF_CFJG,CF_CFJGDM,CF_SJLY,CF_SJLYDM"
        let rows = (0..<5).map { i in
            "\(g.companyName(i)),法人及非法人组织,\(g.companyCode(i)),浔市监罚〔2026〕\(i)号,虚假宣传,当事人发布虚假广告,《广告法》,罚款,罚款2000元,\(i == 3 ? "两千" : "0.2"),2026-05-10,\(g.regulatorName),\(g.regulatorCode),\(g.regulatorName),\(g.regulatorCode)"
        }
        let csv = dir.appendingPathComponent("export.csv")
        try Data(([header] + rows).joined(separator: "\n").utf8).write(to: csv)

        let first = try await CLI.run(["submit", "--node", sandbox.url, "--token-file", tokenFile.path, "--batch-size", "2", csv.path])
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("4 accepted, 0 duplicate, 1 rejected"))
        let rejectsPath = csv.path + ".rejected.csv"
        // Read as bytes: String(contentsOfFile:encoding:) would drop the byte order mark.
        let rejects = String(decoding: try Data(contentsOf: URL(fileURLWithPath: rejectsPath)), as: UTF8.self)
        #expect(rejects.contains("_errors"))
        #expect(rejects.contains("CF_NR_FK"))
        // Marked as UTF-8, so that Excel shows its Chinese as written; resubmitted below as it is.
        #expect(rejects.unicodeScalars.first == "\u{FEFF}")

        // Running it again is safe: everything accepted is a duplicate.
        let again = try await CLI.run(["submit", "--node", sandbox.url, "--token-file", tokenFile.path, csv.path])
        #expect(again.stdout.contains("0 accepted, 4 duplicate, 1 rejected"))

        // The clerk fixes the amount in the rejects file and submits that file as it is.
        try Data(rejects.replacingOccurrences(of: ",两千,", with: ",0.2,").utf8).write(to: URL(fileURLWithPath: rejectsPath))
        #expect(try Data(contentsOf: URL(fileURLWithPath: rejectsPath)).starts(with: [0xEF, 0xBB, 0xBF]))
        let fixed = try await CLI.run(["submit", "--node", sandbox.url, "--token-file", tokenFile.path, rejectsPath])
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(fixed.stdout.contains("1 accepted"))

        // An interrupted run goes on from the row the node last answered, whatever the batch size
        // now, and keeps the rejects it had found (it had stored a batch count: a rerun with
        // another size skipped rows it never sent).
        let more = (5..<10).map { i in
            "\(g.companyName(i)),法人及非法人组织,\(g.companyCode(i)),浔市监罚〔2026〕\(i)号,虚假宣传,当事人发布虚假广告,《广告法》,罚款,罚款2000元,0.2,2026-05-10,\(g.regulatorName),\(g.regulatorCode),\(g.regulatorName),\(g.regulatorCode)"
        }
        let second = dir.appendingPathComponent("second.csv")
        let secondBytes = Data(([header] + more).joined(separator: "\n").utf8)
        try secondBytes.write(to: second)
        let earlier = #"{"file":"\#(Hash32.sha256(Array(secondBytes)).hex)","rows":2,"rejects":["earlier,row,\"its reason\""]}"#
        try Data(earlier.utf8).write(to: URL(fileURLWithPath: second.path + ".progress"))
        let resumed = try await CLI.run(["submit", "--node", sandbox.url, "--token-file", tokenFile.path, "--batch-size", "3", second.path])
        #expect(resumed.stdout.contains("3 accepted, 0 duplicate, 1 rejected"), "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("2 rows already sent"))
        #expect(try String(contentsOfFile: second.path + ".rejected.csv", encoding: .utf8).contains("its reason"))
        #expect(!FileManager.default.fileExists(atPath: second.path + ".progress"))
        // The two rows the earlier run had (in this test, only supposedly) sent were not sent again.
        let all = try await CLI.run(["submit", "--node", sandbox.url, "--token-file", tokenFile.path, second.path])
        #expect(all.stdout.contains("2 accepted, 3 duplicate"), "\(all.stdout)")
    }
}
