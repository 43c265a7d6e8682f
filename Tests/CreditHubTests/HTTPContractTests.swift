import AsyncHTTPClient
import CreditCore
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import Logging
import SyncProtocol
import SyncTransport
import Synchronization
import Testing

/// The node's HTTP client against the hub's HTTP server on a real loopback socket: the same
/// contract as the in-process tests, over the wire.
@Suite struct HTTPContractTests {
    @Test func pushPullAcknowledgeAndRefusalsOverHTTP() async throws {
        let h = try HubFixture()
        let nanchang = try NodeFixture(node: "360100", readScope: .all)
        let ganzhou = try NodeFixture(node: "360700", readScope: .all)
        try h.enroll("360100", key: nanchang.key)
        try h.enroll("360700", key: ganzhou.key)
        let (port, server) = try await LoopbackHTTP.serve(HubAPI.router(service: h.hub), label: "test.hub")
        let (operatorPort, operatorServer) = try await LoopbackHTTP.serve(OperatorAPI.router(service: h.hub, token: "operator-token-0123456789"),
                                                                          label: "test.hub")
        defer { server.cancel(); operatorServer.cancel() }
        let bearer = ["Authorization": "Bearer operator-token-0123456789"]

        func transport(_ f: NodeFixture) -> HTTPHubTransport {
            HTTPHubTransport(client: .shared, baseURL: "http://127.0.0.1:\(port)", node: f.service.node, key: f.key, hubKeys: h.pinned, now: h.clock.function)
        }
        // A request signed while the hub was down reaches it once it has started: refused
        // `replayed`, it is signed again and sent once more at once by the transport itself.
        let signings = Mutex(0), hubStarted = h.now
        let early = HTTPHubTransport(client: .shared, baseURL: "http://127.0.0.1:\(port)", node: "360700", key: ganzhou.key, hubKeys: h.pinned,
                                     now: { signings.withLock { $0 += 1; return $0 } == 1 ? hubStarted.addingTimeInterval(-30) : h.clock.now })
        #expect(try await early.position(node: "360700").acknowledged == 0)
        #expect(try h.hub.snapshot().health["360700"]?.refusedRequests == 1)
        // Reaching the hub is being seen, whether or not the request wrote anything (a node in
        // its first 25 s long poll had been "never seen").
        #expect(try h.store.lags(now: h.now).first { $0.id == "360700" }?.lastSeen == nil, "nothing stored for a read")
        #expect(try h.hub.snapshot().nodes.first { $0.id == "360700" }?.lastSeen == h.now)
        #expect(try h.hub.snapshot().nodes.first { $0.id == "360100" }?.lastSeen == nil, "a node that never called is never seen")

        let pusher = Pusher(node: "360100", store: nanchang.service.store, transport: transport(nanchang), key: nanchang.key,
                            hub: "360000", hubKeys: h.pinned, now: h.clock.function)
        _ = try nanchang.service.submit(nanchang.punishments(0..<30), by: nanchang.identity)
        #expect(try await pusher.pushOnce() == 30)
        #expect(try nanchang.service.store.pushState().acknowledged == 30)

        let receiver = Receiver(node: "360700", store: ganzhou.service.store, transport: transport(ganzhou), hub: "360000",
                                hubKeys: h.pinned, reference: { Fixtures.reference }, now: h.clock.function)
        #expect(try await receiver.pullOnce(wait: 0) == 30)
        #expect(try h.store.lags(now: h.now).first { $0.id == "360700" }?.fanOutApplied == 30)

        // A long poll returns as soon as something is ingested: asked to wait the most the hub
        // allows (60 s), it must be back before that. Alone this takes a second; the margin is
        // wide because the suite saturates two cores for its first minute (a push and a poll
        // once took 34 s in CI), and what is checked is the wake-up, not the machine's speed.
        let started = ContinuousClock.now  // before the poll: a missed wake-up is then 60 s or more
        let waiting = Task { try await receiver.pullOnce(wait: 60) }
        try await Task.sleep(for: .milliseconds(300))
        _ = try nanchang.service.submit(nanchang.punishments(30..<31), by: nanchang.identity)
        #expect(try await pusher.pushOnce() == 1)
        #expect(try await waiting.value == 1)
        #expect(ContinuousClock.now - started < .seconds(55))
        // The consistency proof from a pinned size travels with the batch, in its header.
        let withProof = try await transport(ganzhou).pull(node: "360700", FanOutRequest(after: 31, pinned: 30))
        #expect(withProof.consistency == FanOutAnswer.Consistency(first: 30, second: 31, proof: try h.hub.consistencyProof(first: 30, second: 31)))
        #expect(try await transport(ganzhou).pull(node: "360700", FanOutRequest(after: 31, pinned: 31)).consistency == nil)

        // Position and refusals over the wire.
        #expect(try await transport(nanchang).position(node: "360100").acknowledged == 31)
        let impostor = HTTPHubTransport(client: .shared, baseURL: "http://127.0.0.1:\(port)", node: "360100", key: SigningKey(), hubKeys: h.pinned, now: h.clock.function)
        await #expect(throws: TransportError.self) { try await impostor.position(node: "360100") }
        let forged = try SyncFixtures.changeSet(key: SigningKey(), count: 1).0.encoded
        let refusal: TransportError? = await {
            do { _ = try await transport(nanchang).push(node: "360100", envelope: forged); return nil } catch { return error as? TransportError }
        }()
        #expect(refusal == .refused(status: 403, code: "untrusted-key", message: refusalMessage(refusal)))
        // The operator routes are on their own listener, behind the bearer token.
        let unknown = try await LoopbackHTTP.request("http://127.0.0.1:\(port)/v1/status")
        #expect(unknown.status == 404 && unknown.json["code"] as? String == "not-found", "every error is JSON: \(unknown.body)")
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/v1/status").status == 401)
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/metrics",
                                               headers: ["Authorization": "Bearer operator-token-0123456788"]).status == 401)
        // A browser: the 401 asks for Basic credentials, and the token as the password opens the page.
        let asked = try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/")
        #expect(asked.status == 401 && asked.headers["WWW-Authenticate"]?.hasPrefix("Basic realm=") == true, "\(asked.headers)")
        #expect(asked.json["code"] as? String == "unauthorized", "without Accept: text/html, the JSON error")
        // A browser whose user cancels the login box reads a page, not JSON.
        let cancelled = try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/",
                                                       headers: ["Accept": "text/html,application/xhtml+xml,*/*;q=0.8"])
        #expect(cancelled.status == 401 && cancelled.headers["WWW-Authenticate"]?.hasPrefix("Basic realm=") == true)
        #expect(cancelled.headers["Content-Type"]?.hasPrefix("text/html") == true && cancelled.body.contains("<h1>The operator token is needed</h1>"),
                "\(cancelled.body)")
        let basic = "Basic " + Data("operator:operator-token-0123456789".utf8).base64EncodedString()
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/", headers: ["Authorization": basic]).status == 200)
        let wrong = "Basic " + Data("operator:operator-token-0123456788".utf8).base64EncodedString()
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/", headers: ["Authorization": wrong]).status == 401)
        // The scheme name in any case (RFC 9110 §11.1).
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/v1/status",
                                               headers: ["Authorization": "bearer operator-token-0123456789"]).status == 200)
        let status = try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/v1/status", headers: bearer)
        #expect(status.json["hubLogSize"] as? Int == 31)
        let dashboard = try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/", headers: bearer)
        #expect(dashboard.body.contains("<h2>Nodes</h2>") && dashboard.body.contains("<tr><td>360700</td>"))
        #expect(!dashboard.body.contains("SQL("), "the node table must be rows, not debug text")
        #expect(!dashboard.body.contains("http://") && !dashboard.body.contains("https://"))
        let metrics = try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/metrics", headers: bearer)
        #expect(metrics.body.contains("creditsync_hub_node_lag_changes{node=\"360700\"}"))
        #expect(metrics.body.contains("creditsync_hub_refusals_total{reason=\"untrusted-key\"}"))

        // Positions past 2^63 - 1, in a signed request, are refused before they reach the store
        // (they used to crash the hub); an acknowledgement past what was served is refused too.
        for huge in [UInt64(Int64.max) + 1, UInt64.max] {
            let pull: TransportError? = await {
                do { _ = try await transport(ganzhou).pull(node: "360700", after: huge, waitSeconds: 0); return nil } catch { return error as? TransportError }
            }()
            #expect(pull.map { if case .refused(400, "bad-request", _) = $0 { true } else { false } } == true, "after=\(huge): \(String(describing: pull))")
            let ack: TransportError? = await {
                do { try await transport(ganzhou).acknowledge(node: "360700", through: huge); return nil } catch { return error as? TransportError }
            }()
            #expect(ack.map { if case .refused(400, "bad-request", _) = $0 { true } else { false } } == true, "through=\(huge): \(String(describing: ack))")
        }
        let inflated: TransportError? = await {
            do { try await transport(ganzhou).acknowledge(node: "360700", through: 1_000); return nil } catch { return error as? TransportError }
        }()
        #expect(inflated.map { if case .refused(409, "ack-beyond-served", _) = $0 { true } else { false } } == true)
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(port)/healthz").body == "ok\n")

        // A signed request is taken once, and only with the body it was signed for.
        func raw(_ target: String, body: [UInt8], header: String) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(target)")
            request.method = .POST
            request.headers.add(name: "Authorization", value: header)
            request.headers.add(name: "Content-Type", value: "application/json")
            if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            return (Int(response.status.code), text)
        }
        let ackTarget = HubPaths.fanOutAck(node: "360700")
        let body = Array(#"{"through":31}"#.utf8)
        let header = try RequestSignature.header(node: "360700", key: ganzhou.key, method: "POST", target: ackTarget, body: body, now: h.now)
        #expect(try await raw(ackTarget, body: body, header: header).0 == 204)
        let replay = try await raw(ackTarget, body: body, header: header)
        #expect(replay.0 == 401 && replay.1.contains("replayed"), "\(replay)")
        let fresh = try RequestSignature.header(node: "360700", key: ganzhou.key, method: "POST", target: ackTarget, body: Array(#"{"through":1}"#.utf8),
                                                now: h.now)
        let swapped = try await raw(ackTarget, body: body, header: fresh)
        #expect(swapped.0 == 401 && swapped.1.contains("unauthorized"), "another body under a signature: \(swapped)")
        // The body is {"through": N} and nothing else: a key given twice is refused, not resolved.
        for strange in [#"{"through":1,"through":2}"#, #"{"through":1,"extra":2}"#, #"{"through":1.0}"#, #"[1]"#,
                        #"{"through":1e0}"#, #"{"through":0.12e2}"#, #"{"through":1E3}"#, #"{"through":-0}"#] {
            let bytes = Array(strange.utf8)
            let signedFor = try RequestSignature.header(node: "360700", key: ganzhou.key, method: "POST", target: ackTarget, body: bytes, now: h.now)
            let answer = try await raw(ackTarget, body: bytes, header: signedFor)
            #expect(answer.0 == 400 && answer.1.contains("bad-request"), "\(strange): \(answer)")
        }
        // Queries are read one way only: a parameter twice, a leading zero, an upper-case or
        // missing position is refused; a node's own changes past what the hub holds are a 400
        // with its JSON body, not an empty 500.
        func get(_ target: String, as f: NodeFixture) async throws -> (Int, String) {
            let header = try RequestSignature.header(node: f.service.node, key: f.key, method: "GET", target: target, body: [], now: h.now)
            let response = try await LoopbackHTTP.request("http://127.0.0.1:\(port)\(target)", headers: ["Authorization": header])
            return (response.status, response.body)
        }
        let fanOut = HubPaths.fanOut(node: "360700")
        for query in ["?after=1&after=2", "?after=01", "?wait=0", "?after=1&applied=1&applied=0", "?after=1&x=1&x=1"] {
            let answer = try await get(fanOut + query, as: ganzhou)
            #expect(answer.0 == 400 && answer.1.contains("bad-request"), "\(query): \(answer)")
        }
        // Any parameter twice, on any route of either listener; on a node's routes and the
        // operators' only once the caller is known: without a key or the token it is 401, which
        // tells nothing of the route.
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(port)/v1/log/head?x=1&x=1").status == 400)
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/v1/status?windows=all&windows=closed", headers: bearer).status == 400)
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/v1/status?windows=all&windows=all").status == 401)
        #expect(try await LoopbackHTTP.request("http://127.0.0.1:\(port)\(fanOut)?after=0&after=1").status == 401)
        // An operator route that does not exist is answered as every error is: JSON {code, message}.
        let missing = try await LoopbackHTTP.request("http://127.0.0.1:\(operatorPort)/nope", headers: bearer)
        #expect(missing.status == 404 && missing.body.contains(#""code":"not-found""#), "\(missing)")
        let recover = HubPaths.recover(node: "360100")
        #expect(try await get(recover + "?after=31", as: nanchang).0 == 200)
        let beyond = try await get(recover + "?after=32", as: nanchang)
        #expect(beyond.0 == 400 && beyond.1.contains("beyond-log") && beyond.1.contains("holds 31 changes"), "\(beyond)")
        // A pinned head is looked at only for a set the hub took: a refused push reports no fork.
        // (A set signed by a key the hub does not hold: refused at once, 403.)
        let gapSet = try SyncFixtures.changeSet(key: SigningKey(), count: 1).0.encoded
        let bogus = "?pinned=5:" + String(repeating: "ab", count: 32)
        let pushTarget = HubPaths.changeSets(node: "360100") + bogus
        var push = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(pushTarget)")
        push.method = .POST
        push.headers.add(name: "Authorization", value: try RequestSignature.header(node: "360100", key: nanchang.key, method: "POST", target: pushTarget,
                                                                                   body: gapSet, now: h.now))
        push.body = .bytes(ByteBuffer(bytes: gapSet))
        #expect(try await HTTPClient.shared.execute(push, timeout: .seconds(30)).status.code == 403)
        #expect(try h.store.forkReports().isEmpty)
        // A subject key percent-encoded, as hub-api.md says it is sent, names the same subject.
        let detail = try #require(try nanchang.service.store.record(RecordKey(provider: nanchang.identity.unit, item: "administrative-punishment",
                                                                              recordId: "CF-360100-2026-0")))
        guard case let .string(uscc)? = detail.record.objectValue?["subject"]?.objectValue?["uscc"] else {
            Issue.record("the record has no subject code: \(detail.record)")
            return
        }
        let subject = "uscc:\(uscc)"
        func attested(_ encoded: String) async throws -> SubjectAttestation {
            let target = "/v1/nodes/360700/subjects/\(encoded)"
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(target)")
            request.headers.add(name: "Authorization", value: try RequestSignature.header(node: "360700", key: ganzhou.key, method: "GET",
                                                                                            target: target, body: [], now: h.now))
            let answer = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let bytes = Array(try await answer.body.collect(upTo: 1 << 20).readableBytesView)
            return try SubjectAttestation.open(bytes, hub: "360000", keys: h.pinned, subject: subject)
        }
        let plain = try await attested(subject)
        let encoded = try await attested(subject.replacingOccurrences(of: ":", with: "%3A"))
        #expect(!plain.records.isEmpty && encoded.records == plain.records)
        // The position answer is signed by the hub, for the node that asked.
        let positionTarget = HubPaths.position(node: "360100")
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(positionTarget)")
        request.headers.add(name: "Authorization", value: try RequestSignature.header(node: "360100", key: nanchang.key, method: "GET",
                                                                                        target: positionTarget, body: [], now: h.now))
        let answer = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let signed = Array(try await answer.body.collect(upTo: 1 << 20).readableBytesView)
        #expect(try SignedPosition.open(signed, hub: "360000", keys: h.pinned, node: "360100").acknowledged == 31)
        #expect(throws: (any Error).self) { try SignedPosition.open(signed, hub: "360000", keys: h.pinned, node: "360700") }
        // A node takes it only under the hub keys it pinned (hub-api.md): pinning another key, the
        // answer does not verify and the node learns no position from it.
        var otherKeys = KeyRegistry()
        try otherKeys.enroll(SigningKey().publicKey, for: "360000")
        #expect(throws: (any Error).self) { try SignedPosition.open(signed, hub: "360000", keys: otherKeys, node: "360100") }
        let unpinned = HTTPHubTransport(client: .shared, baseURL: "http://127.0.0.1:\(port)", node: "360100", key: nanchang.key,
                                        hubKeys: otherKeys, now: h.clock.function)
        await #expect(throws: TransportError.self) { try await unpinned.position(node: "360100") }
        #expect(try await transport(nanchang).position(node: "360100").acknowledged == 31)
        // So is the refusal list (hub-api.md), through the position; no other node reads it.
        let refusals = try RefusalList.open(try await transport(nanchang).refusals(node: "360100", after: 0), hub: "360000", keys: h.pinned,
                                            node: "360100", after: 0)
        #expect(refusals.refusals.isEmpty && refusals.through == 31 && refusals.acknowledged == 31)
        await #expect(throws: TransportError.self) { try await impostor.refusals(node: "360100", after: 0) }
        await #expect(throws: TransportError.self) { try await transport(ganzhou).refusals(node: "360100", after: 0) }

        // The hub head a node pinned travels with its push (hub-api.md, ?pinned=SIZE:ROOT): one
        // this log does not hold is a fork report, once the set is taken.
        #expect(try h.store.forkReports().isEmpty)
        let ganzhouSet = try SyncFixtures.changeSet(node: "360700", key: ganzhou.key, count: 1).0.encoded
        let foreignHead = TreeHead(size: 5, root: .sha256(Array("another history".utf8)))
        _ = try await transport(ganzhou).push(node: "360700", envelope: ganzhouSet, pinned: foreignHead)
        #expect(try h.store.forkReports().map { "\($0.node) \($0.pinnedSize) \($0.pinnedRoot)" } == ["360700 5 \(foreignHead.root.hex)"])
    }

    func refusalMessage(_ error: TransportError?) -> String {
        if case let .refused(_, _, message)? = error { return message }
        return ""
    }
}
