import CreditCore
import CreditData
import CreditDeploy
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// Hostile input against a real hub and a real node (processes, real HTTP): each request gets
/// the status and code `Protocol/` documents, and leaves both stores exactly as they were —
/// every row of every table, and the hub's evidence file. Then a route × role sweep: every
/// route refuses every caller it does not admit.
///
/// The stores are quiet while the attacks run: the hub's nodes are stopped (the test speaks for
/// them with their keys), and the node under attack points at a hub that is not there.
@Suite(.serialized) struct HostileInputTests {
    /// One attack: what it sends, and the documented answer.
    struct Attack {
        var name: String
        var status: Int
        var code: String?
        /// For a rejected record: the field its error names.
        var field: String?
        var send: () async throws -> LoopbackHTTP.Reply

        init(name: String, status: Int, code: String?, field: String? = nil, send: @escaping () async throws -> LoopbackHTTP.Reply) {
            self.name = name
            self.status = status
            self.code = code
            self.field = field
            self.send = send
        }
    }

    final class Setting: @unchecked Sendable {
        let federation: Federation
        let hubDB: String
        let nodeDB: String
        let nodeURL: String
        let operatorToken = "operator-token-for-the-hostile-suite"
        let key100: SigningKey
        let key700: SigningKey
        let revokedKey: SigningKey
        var writerToken = ""
        var revokedToken = ""
        var limitedToken = ""
        var hubLog: UInt64 = 0
        var log100: UInt64 = 0
        /// Taken just before the hub process is started: the hub's own start is later.
        var hubStarted = Date()

        init() async throws {
            let dir = try Fixtures.temporaryDirectory("hostile")
            let ids = ["360100", "360700", "360400"]
            let sites = try Deployment.jiangxiSites(counties: false).filter { ids.contains($0.id) }
            let deployment = try Deployment.generate(in: dir, sites: sites, basePort: LoopbackHTTP.freePortRange(ids.count + 2),
                                                     pushIdleMilliseconds: 50)
            // The operator listener requires a token.
            let tokenFile = dir.appendingPathComponent("hub/operator.token")
            try Data(operatorToken.utf8).write(to: tokenFile)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tokenFile.path)
            let config = deployment.hubConfig
            // A short body deadline, so that a trickled body is cut off within the test.
            let text = try String(contentsOf: config, encoding: .utf8)
                .replacingOccurrences(of: "\"operator\": {\"host\": \"127.0.0.1\", \"port\": \(deployment.operatorPort)}",
                                      with: "\"operator\": {\"host\": \"127.0.0.1\", \"port\": \(deployment.operatorPort), \"tokenFile\": \"operator.token\"}")
                .replacingOccurrences(of: "\"bodySeconds\": 120", with: "\"bodySeconds\": \(Self.hubBodySeconds)")
            try Data(text.utf8).write(to: config)
            // The node under attack has no hub: nothing but the attacks writes to it.
            let nodeConfig = deployment.nodeConfig("360700")
            let nodeText = try String(contentsOf: nodeConfig, encoding: .utf8)
                .replacingOccurrences(of: deployment.hubURL, with: "http://127.0.0.1:\(LoopbackHTTP.freePort())")
            try Data(nodeText.utf8).write(to: nodeConfig)
            federation = Federation(deployment: deployment, executable: CLI.executable)
            federation.operatorToken = operatorToken
            try federation.prepare()
            hubDB = dir.appendingPathComponent("hub/hub.sqlite").path
            nodeDB = deployment.nodeDirectory("360700").appendingPathComponent("node.sqlite").path
            nodeURL = deployment.nodeURL(deployment.nodes.first { $0.id == "360700" }!)
            func key(_ id: String) throws -> SigningKey { try KeyFile.readPrivate(deployment.nodeDirectory(id).appendingPathComponent("node.key")) }
            key100 = try key("360100")
            key700 = try key("360700")
            revokedKey = try key("360400")
            // Credentials at the node: a writer, a revoked one, one limited to permits and no reads.
            let store = try NodeStore(path: nodeDB, role: .operator)
            let unit = SyntheticRecords(division: "360700").regulatorCode
            writerToken = federation.tokens["360700"]!
            let revoked = try store.addCredential(name: "revoked", unit: try UnifiedSocialCreditCode.parse(unit), writeItems: nil, readScope: .all, at: Date())
            _ = try store.revokeCredential(revoked.id, at: Date())
            revokedToken = revoked.token
            limitedToken = try store.addCredential(name: "limited", unit: try UnifiedSocialCreditCode.parse(unit), writeItems: ["administrative-permit"], readScope: .none,
                                                   at: Date()).token
            try store.close()
            #expect(try await CLI.run(["hub", "node", "revoke", "--config", config.path, "--id", "360400"]).status == 0)

            hubStarted = Date()
            try federation.startHub()
            try federation.startNode("360100")
            try federation.startNode("360700")
            try await federation.waitUntilHealthy()
            // State to protect: 360100's records at the hub, 360700's at the node.
            _ = try await federation.submit(node: "360100", records: Self.records("360100", 0..<12))
            let deadline = Date().addingTimeInterval(60)
            while (try? await federation.status().hubLogSize) ?? 0 < 12 {
                guard Date() < deadline else { throw FederationError("node 360100's records never reached the hub") }
                try await Task.sleep(for: .milliseconds(200))
            }
            _ = try await federation.submit(node: "360700", records: Self.records("360700", 0..<8))
            // The hub goes quiet: 360100 stops; the test speaks for it from now on.
            if let p = federation.nodeProcesses["360100"] { p.terminate(); await p.exited() }
            hubLog = try await federation.status().hubLogSize
            log100 = 12
        }

        static func records(_ node: String, _ range: Range<Int>) -> [CreditRecord] {
            var g = SyntheticRecords(division: node)
            return range.map { g.punishment($0, decidedOn: CivilDate(year: 2026, month: 6, day: 1)!) }
        }

        /// The hub's `limits.bodySeconds` here.
        static let hubBodySeconds = 4

        var hubURL: String { federation.deployment.hubURL }
        var operatorURL: String { federation.deployment.hubOperatorURL }

        /// Both stores' fingerprints, once they stop changing. The node writes once more on its
        /// own: it saves its first change set in its outbox when its pusher first runs, which may
        /// be after a back-off (its hub is not there); after that its retries write nothing.
        func quietFingerprints() async throws -> (hub: String, node: String) {
            for _ in 0..<240 where try StoreFingerprint.rows(nodeDB, table: "outbox") == 0 {
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(try StoreFingerprint.rows(nodeDB, table: "outbox") == 1, "the node saved its change set")
            var last = (try StoreFingerprint.of(hubDB), try StoreFingerprint.of(nodeDB))
            var stable = 0
            for _ in 0..<40 {
                try await Task.sleep(for: .milliseconds(500))
                let now = (try StoreFingerprint.of(hubDB), try StoreFingerprint.of(nodeDB))
                stable = now == last ? stable + 1 : 0
                if stable == 3 { return now }
                last = now
            }
            Issue.record("the stores never went quiet")
            return last
        }

        /// A request to the hub signed as `node` with `key` (the signature covers `body`).
        func signed(_ method: String, _ target: String, node: String = "360100", key: SigningKey? = nil, body: [UInt8] = [],
                    headers: [String: String] = [:], sign signedBody: [UInt8]? = nil, at: Date = Date()) async throws -> LoopbackHTTP.Reply {
            let header = try RequestSignature.header(node: node, key: key ?? key100, method: method, target: target, body: signedBody ?? body, now: at)
            return try await LoopbackHTTP.request(hubURL + target, method: method, headers: headers.merging(["Authorization": header]) { a, _ in a },
                                                  body: body.isEmpty ? nil : Data(body))
        }

        /// A signed read of this node's position with `nonce` as given, well formed or not.
        func signedRead(nonce: String) async throws -> LoopbackHTTP.Reply {
            let target = HubPaths.position(node: "360100")
            let header = try RequestSignature.header(node: "360100", key: key100, method: "GET", target: target, body: [], now: Date(), nonce: nonce)
            return try await LoopbackHTTP.request(hubURL + target, headers: ["Authorization": header])
        }

        func provider(_ method: String, _ path: String, token: String?, body: Data? = nil,
                      contentType: String? = "application/json") async throws -> LoopbackHTTP.Reply {
            var headers: [String: String] = [:]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            if let contentType { headers["Content-Type"] = contentType }
            return try await LoopbackHTTP.request(nodeURL + path, method: method, headers: headers, body: body)
        }

        func tearDown() { federation.tearDown() }
    }

    /// A frontier of `size` leaves no log holds.
    static func strangerFrontier(_ size: UInt64) -> MerkleFrontier {
        var f = MerkleFrontier()
        for i in 0..<size { f.append(leafHash: MerkleHash.leaf(Array("stranger \(i)".utf8))) }
        return f
    }

    @Test func hostileInputGetsItsDocumentedAnswerAndChangesNothing() async throws {
        let s = try await Setting()
        defer { s.tearDown() }
        let changesets = HubPaths.changeSets(node: "360100")
        let envelopeType = ["Content-Type": HubPaths.envelopeType]
        // A set that would be next, but signed by a key the hub never enrolled.
        let foreign = try SyncFixtures.changeSet(key: SigningKey(), after: Self.strangerFrontier(s.log100), count: 1).0.encoded
        let record = try JSONEncoder().encode(Setting.records("360700", 100..<101)[0])
        let json = try #require(try JSONSerialization.jsonObject(with: record) as? [String: Any])

        var attacks: [Attack] = [
            // The hub's node routes: authentication.
            Attack(name: "change set without a signature", status: 401, code: "unauthorized") {
                try await LoopbackHTTP.request(s.hubURL + changesets, method: "POST", headers: envelopeType, body: Data(foreign))
            },
            Attack(name: "garbage Authorization header", status: 401, code: "unauthorized") {
                try await LoopbackHTTP.request(s.hubURL + changesets, method: "POST",
                                               headers: envelopeType.merging(["Authorization": "CreditSync-Ed25519 ;;;"]) { a, _ in a }, body: Data(foreign))
            },
            Attack(name: "a header field given twice", status: 401, code: "unauthorized") {
                let header = try RequestSignature.header(node: "360100", key: s.key100, method: "GET", target: HubPaths.position(node: "360100"),
                                                         body: [], now: Date())
                return try await LoopbackHTTP.request(s.hubURL + HubPaths.position(node: "360100"),
                                                      headers: ["Authorization": header + ",node=360700"])
            },
            Attack(name: "signed by a key the hub never enrolled", status: 401, code: "unauthorized") {
                try await s.signed("POST", changesets, key: SigningKey(), body: foreign, headers: envelopeType)
            },
            Attack(name: "signed by another enrolled node for this node's path", status: 401, code: "unauthorized") {
                try await s.signed("POST", changesets, node: "360700", key: s.key700, body: foreign, headers: envelopeType)
            },
            Attack(name: "the signature covers another body", status: 401, code: "unauthorized") {
                try await s.signed("POST", changesets, body: foreign, headers: envelopeType, sign: Array("{}".utf8))
            },
            Attack(name: "a stale signature (20 minutes old)", status: 401, code: "unauthorized") {
                try await s.signed("GET", HubPaths.position(node: "360100"), at: Date().addingTimeInterval(-1200))
            },
            Attack(name: "a signature from the future (20 minutes ahead)", status: 401, code: "unauthorized") {
                try await s.signed("GET", HubPaths.position(node: "360100"), at: Date().addingTimeInterval(1200))
            },
            Attack(name: "a nonce of 15 hex digits", status: 401, code: "unauthorized") {
                try await s.signedRead(nonce: "0123456789abcde")
            },
            Attack(name: "a nonce of 65 hex digits", status: 401, code: "unauthorized") {
                try await s.signedRead(nonce: String(repeating: "a", count: 65))
            },
            Attack(name: "a nonce in upper-case hex", status: 401, code: "unauthorized") {
                try await s.signedRead(nonce: "0123456789ABCDEF0123456789ABCDEF")
            },
            Attack(name: "a nonce of full-width digits", status: 401, code: "unauthorized") {
                try await s.signedRead(nonce: String(repeating: "０１２３", count: 4))
            },
            // Within the allowed skew, but before the hub process started: its memory of nonces
            // starts then, so such a request could be one it took before a restart.
            Attack(name: "a request signed before the hub started", status: 401, code: "replayed") {
                try await s.signed("GET", HubPaths.position(node: "360100"), at: s.hubStarted.addingTimeInterval(-2))
            },
            Attack(name: "a change set whose envelope signature does not verify", status: 401, code: "bad-signature") {
                var envelope = try Envelope(decoding: try SyncFixtures.changeSet(key: s.key100, after: Self.strangerFrontier(s.log100), count: 1).0.encoded)
                envelope.signatures[0].bytes[5] ^= 0x01
                return try await s.signed("POST", changesets, body: envelope.encoded, headers: envelopeType)
            },
            Attack(name: "a revoked node's signed read", status: 401, code: "unauthorized") {
                try await s.signed("GET", HubPaths.fanOut(node: "360400") + "?after=0", node: "360400", key: s.revokedKey)
            },
            Attack(name: "an unknown node's signed read", status: 401, code: "unauthorized") {
                try await s.signed("GET", HubPaths.position(node: "369999"), node: "369999", key: SigningKey())
            },
            // The hub's node routes: what an authenticated node may still not do.
            Attack(name: "a change set signed by a key not the node's", status: 403, code: "untrusted-key") {
                try await s.signed("POST", changesets, body: foreign, headers: envelopeType)
            },
            Attack(name: "another node's change set posted on this node's path", status: 403, code: "wrong-node") {
                let other = try SyncFixtures.changeSet(node: "360700", key: s.key700, count: 1).0.encoded
                return try await s.signed("POST", changesets, body: other, headers: envelopeType)
            },
            // A signed head that names an active key, then a body trickled a byte at a time (the
            // connection never idle): cut off at the hub's body deadline, not held for as long as
            // the sender likes.
            Attack(name: "a change set whose body trickles past the hub's deadline", status: 408, code: "too-slow") {
                let header = try RequestSignature.header(node: "360100", key: s.key100, method: "POST", target: changesets, body: foreign, now: Date())
                let head = "POST \(changesets) HTTP/1.1\r\nHost: x\r\nAuthorization: \(header)\r\nContent-Type: \(HubPaths.envelopeType)\r\n"
                    + "Content-Length: \(foreign.count)\r\n\r\n"
                let started = ContinuousClock.now
                let fd = try RawConnection.open(to: s.federation.deployment.hub.port, sending: head, timeout: 30)
                defer { close(fd) }
                let trickle = Task {
                    for byte in foreign.prefix(40) {
                        try await Task.sleep(for: .milliseconds(250))
                        _ = withUnsafePointer(to: byte) { send(fd, $0, 1, Int32(MSG_NOSIGNAL)) }
                    }
                }
                defer { trickle.cancel() }
                let reply = RawConnection.reply(try await RawConnection.answer(fd))
                let waited = ContinuousClock.now - started
                #expect(waited >= .seconds(Setting.hubBodySeconds) && waited < .seconds(20), "answered after \(waited)")
                return reply
            },
            Attack(name: "random bytes as an envelope", status: 400, code: nil) {
                try await s.signed("POST", changesets, body: (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }, headers: envelopeType)
            },
            Attack(name: "a truncated envelope", status: 400, code: "truncated") {
                let real = try SyncFixtures.changeSet(key: s.key100, after: Self.strangerFrontier(s.log100), count: 2).0.encoded
                return try await s.signed("POST", changesets, body: Array(real.prefix(real.count / 2)), headers: envelopeType)
            },
            Attack(name: "a receipt envelope posted as a change set", status: 415, code: "payload-type") {
                let receipt = Receipt(hub: "360100", keyId: s.key100.keyId, node: "360100", first: 1, last: 1,
                                      tree: TreeHead(size: 1, root: MerkleHash.leaf([1])), envelopeDigest: .sha256([1]), receivedAt: 1)
                return try await s.signed("POST", changesets, body: try receipt.signed(with: s.key100).encoded, headers: envelopeType)
            },
            Attack(name: "a body over 16 MiB", status: 413, code: "too-large") {
                try await s.signed("POST", changesets, body: [UInt8](repeating: 7, count: (16 << 20) + 1), headers: envelopeType)
            },
            Attack(name: "a change set that skips ahead (gap)", status: 409, code: "gap") {
                let ahead = try SyncFixtures.changeSet(key: s.key100, after: Self.strangerFrontier(s.log100 + 5), count: 1).0.encoded
                return try await s.signed("POST", changesets, body: ahead, headers: envelopeType)
            },
            Attack(name: "a change set whose tree head is not the node's log", status: 422, code: "inconsistent") {
                let wrong = try SyncFixtures.changeSet(key: s.key100, after: Self.strangerFrontier(s.log100), count: 1).0.encoded
                return try await s.signed("POST", changesets, body: wrong, headers: envelopeType)
            },
            Attack(name: "a malformed pinned hub head", status: 400, code: "bad-request") {
                try await s.signed("POST", changesets + "?pinned=12:xyz", body: foreign, headers: envelopeType)
            },
            Attack(name: "a fan-out position of −1", status: 400, code: "bad-request") {
                try await s.signed("GET", HubPaths.fanOut(node: "360100") + "?after=-1")
            },
            Attack(name: "a fan-out position of 2^63", status: 400, code: "bad-request") {
                try await s.signed("GET", HubPaths.fanOut(node: "360100") + "?after=9223372036854775808")
            },
            Attack(name: "a fan-out request acknowledging beyond where it asks", status: 400, code: "bad-request") {
                try await s.signed("GET", HubPaths.fanOut(node: "360100") + "?after=0&applied=1")
            },
            Attack(name: "a pinned fan-out size that is not a number", status: 400, code: "bad-request") {
                try await s.signed("GET", HubPaths.fanOut(node: "360100") + "?after=0&pinned=12:xyz")
            },
            Attack(name: "a recovery position that is not a number", status: 400, code: "bad-request") {
                try await s.signed("GET", HubPaths.recover(node: "360100") + "?after=abc")
            },
            Attack(name: "an acknowledgement that is not JSON", status: 400, code: "bad-request") {
                try await s.signed("POST", HubPaths.fanOutAck(node: "360100"), body: Array("through=3".utf8))
            },
            Attack(name: "an acknowledgement with a negative position", status: 400, code: "bad-request") {
                try await s.signed("POST", HubPaths.fanOutAck(node: "360100"), body: Array(#"{"through":-4}"#.utf8))
            },
            Attack(name: "an acknowledgement past what was served", status: 409, code: "ack-beyond-served") {
                try await s.signed("POST", HubPaths.fanOutAck(node: "360100"), body: Array(#"{"through":1000000}"#.utf8))
            },
            Attack(name: "an acknowledgement over 4096 bytes", status: 413, code: "too-large") {
                try await s.signed("POST", HubPaths.fanOutAck(node: "360100"),
                                   body: Array(("{\"through\":1" + String(repeating: " ", count: 5000) + "}").utf8))
            },
            // The hub's public routes.
            Attack(name: "a consistency proof past the log", status: 400, code: "beyond-log") {
                try await LoopbackHTTP.request(s.hubURL + HubPaths.consistency + "?first=1&second=\(s.hubLog + 1)")
            },
            Attack(name: "an inclusion proof of position 0", status: 400, code: "beyond-log") {
                try await LoopbackHTTP.request(s.hubURL + HubPaths.inclusion + "?position=0&size=1")
            },
            Attack(name: "an inclusion proof of a position past its size", status: 400, code: "beyond-log") {
                try await LoopbackHTTP.request(s.hubURL + HubPaths.inclusion + "?position=3&size=2")
            },
            Attack(name: "an inclusion proof in a tree larger than the log", status: 400, code: "beyond-log") {
                try await LoopbackHTTP.request(s.hubURL + HubPaths.inclusion + "?position=1&size=\(s.hubLog + 1)")
            },
            Attack(name: "a signed read with a body", status: 413, code: "too-large") {
                try await s.signed("GET", HubPaths.position(node: "360100"), body: Array("{}".utf8))
            },
            Attack(name: "a reference path outside the reference folders", status: 404, code: "not-found") {
                try await LoopbackHTTP.request(s.hubURL + "/v1/reference/..%2F..%2Fhub/hub.key")
            },
            Attack(name: "the operator status asked on the nodes' listener", status: 404, code: nil) {
                try await LoopbackHTTP.request(s.hubURL + "/v1/status")
            },
            Attack(name: "the operator status without the token", status: 401, code: "unauthorized") {
                try await LoopbackHTTP.request(s.operatorURL + "/v1/status")
            },
            Attack(name: "the operator metrics with a wrong token", status: 401, code: "unauthorized") {
                try await LoopbackHTTP.request(s.operatorURL + "/metrics", headers: ["Authorization": "Bearer \(s.operatorToken)x"])
            },
            // The node's provider API.
            Attack(name: "records without a token", status: 401, code: "unauthorized") {
                try await s.provider("POST", "/v1/records", token: nil, body: record)
            },
            Attack(name: "records with a made-up token", status: 401, code: "unauthorized") {
                try await s.provider("POST", "/v1/records", token: "cs_p00000000_forged", body: record)
            },
            Attack(name: "records with a revoked token", status: 401, code: "unauthorized") {
                try await s.provider("POST", "/v1/records", token: s.revokedToken, body: record)
            },
            Attack(name: "records sent as text/plain", status: 415, code: "unsupported-media-type") {
                try await s.provider("POST", "/v1/records", token: s.writerToken, body: record, contentType: "text/plain")
            },
            Attack(name: "a body over the node's limit", status: 413, code: "too-large") {
                try await s.provider("POST", "/v1/records", token: s.writerToken, body: Data(repeating: 32, count: (16 << 20) + 10))
            },
            Attack(name: "more records than a batch may hold", status: 413, code: "too-many-records") {
                try await s.provider("POST", "/v1/records", token: s.writerToken,
                                     body: Data(("[" + Array(repeating: "{}", count: 5001).joined(separator: ",") + "]").utf8))
            },
            Attack(name: "a body that is not JSON", status: 400, code: "bad-request") {
                try await s.provider("POST", "/v1/records", token: s.writerToken, body: Data("{\"item\": ".utf8))
            },
            Attack(name: "a record with a key given twice", status: 400, code: "bad-request") {
                try await s.provider("POST", "/v1/records", token: s.writerToken,
                                     body: Data(#"{"item":"administrative-punishment","item":"administrative-permit"}"#.utf8))
            },
            Attack(name: "JSON nested 200 deep", status: 400, code: "bad-request") {
                try await s.provider("POST", "/v1/records", token: s.writerToken,
                                     body: Data((String(repeating: "[", count: 200) + String(repeating: "]", count: 200)).utf8))
            },
            Attack(name: "a record without its subject", status: 422, code: nil, field: "subject") {
                var broken = json
                broken["subject"] = nil
                return try await s.provider("POST", "/v1/records", token: s.writerToken, body: try JSONSerialization.data(withJSONObject: broken))
            },
            Attack(name: "a record with an invalid unified social credit code", status: 422, code: nil, field: "subject.uscc") {
                var broken = json
                var subject = broken["subject"] as? [String: Any] ?? [:]
                subject["uscc"] = "91360100MA35XXXXX0"
                broken["subject"] = subject
                return try await s.provider("POST", "/v1/records", token: s.writerToken, body: try JSONSerialization.data(withJSONObject: broken))
            },
            Attack(name: "a correction of a record that does not exist", status: 404, code: "not-found") {
                try await s.provider("POST", "/v1/records/administrative-punishment/\(json["recordId"] as! String)/correct", token: s.writerToken,
                                     body: try JSONSerialization.data(withJSONObject: ["record": json, "reason": "复议撤销", "decisionDocument": "洪复决〔2026〕1号"]))
            },
            Attack(name: "a revocation by a credential limited to other items", status: 403, code: "forbidden") {
                try await s.provider("POST", "/v1/records/administrative-punishment/\(json["recordId"] as! String)/revoke", token: s.limitedToken,
                                     body: try JSONSerialization.data(withJSONObject: ["reason": "撤销", "decisionDocument": "洪复决〔2026〕2号"]))
            },
            Attack(name: "a read by a credential that may read nothing", status: 403, code: "forbidden") {
                try await s.provider("GET", "/v1/subjects/91360100MA35XXXXXX/records?purpose=audit", token: s.limitedToken, contentType: nil)
            },
            Attack(name: "a CSV import in an unsupported charset", status: 400, code: "bad-request") {
                try await s.provider("POST", "/v1/records/import", token: s.writerToken, body: Data("a,b\n1,2\n".utf8),
                                     contentType: "text/csv; charset=ebcdic")
            },
            Attack(name: "a CSV import that is not a double-publicity export", status: 400, code: "bad-request") {
                try await s.provider("POST", "/v1/records/import", token: s.writerToken, body: Data("no,such,columns\n1,2,3\n".utf8),
                                     contentType: "text/csv")
            },
        ]
        // The replay of a request the hub took: the first is a harmless read, the second refused.
        let replayTarget = HubPaths.position(node: "360100")
        let replayed = try RequestSignature.header(node: "360100", key: s.key100, method: "GET", target: replayTarget, body: [], now: Date())
        attacks.append(Attack(name: "a replayed signed request", status: 401, code: "replayed") {
            let first = try await LoopbackHTTP.request(s.hubURL + replayTarget, headers: ["Authorization": replayed])
            #expect(first.status == 200, "the original request: \(first.status) \(first.body.prefix(200))")
            return try await LoopbackHTTP.request(s.hubURL + replayTarget, headers: ["Authorization": replayed])
        })
        #expect(attacks.count >= 40)
        #expect(Set(attacks.map(\.name)).count == attacks.count, "every attack is distinct")

        let before = try await s.quietFingerprints()
        for attack in attacks {
            let reply = try await attack.send()
            #expect(reply.status == attack.status, "\(attack.name): \(reply.status) \(reply.body.prefix(300))")
            if let code = attack.code {
                #expect(reply.json["code"] as? String == code, "\(attack.name): \(reply.body.prefix(300))")
            }
            if let field = attack.field {
                #expect(reply.body.contains("\"field\":\"\(field)\""), "\(attack.name) names the field: \(reply.body.prefix(300))")
            }
            if reply.status != 404 || attack.code != nil {
                #expect(reply.json["message"] is String || reply.json["errors"] != nil,
                        "\(attack.name): every error is JSON with a message: \(reply.body.prefix(200))")
            }
            #expect(try StoreFingerprint.of(s.hubDB) == before.hub, "\(attack.name) changed the hub's store")
            #expect(try StoreFingerprint.of(s.nodeDB) == before.node, "\(attack.name) changed the node's store")
        }
        // Nothing refused reached the hub's status either; its health view shows the refusals.
        let status = try await s.federation.status()
        #expect(status.hubLogSize == s.hubLog)
        let health = try #require(status.health["360100"])
        #expect(health.refusedRequests >= 15 && health.consecutiveRefusals >= 1, "\(health)")
        #expect(health.lastRefusal?.hasPrefix("401 replayed:") == true, "\(health)")
        // A request anyone could send (unsigned, or not signed by the node) is refused and logged,
        // but not held against the node the path names: it cannot make a healthy node look broken.
        _ = try await LoopbackHTTP.request(s.hubURL + HubPaths.changeSets(node: "360100"), method: "POST", body: Data("x".utf8))
        _ = try await s.signed("POST", HubPaths.changeSets(node: "360100"), key: SigningKey(), body: Array("x".utf8))
        let after = try #require(try await s.federation.status().health["360100"])
        #expect(after.refusedRequests == health.refusedRequests, "\(after)")
        #expect(health.version == "creditsync-node/\(BuildInfo.version)", "\(health)")
        #expect(status.health["369999"] == nil, "made-up node ids are not kept")
        // A node killed mid-upload ends its stream early: the client's doing, refused and logged
        // as a warning like any refusal, not the hub's failure (an error and a 500).
        let body = try SyncFixtures.changeSet(key: s.key100, after: Self.strangerFrontier(s.log100), count: 2).0.encoded
        let target = HubPaths.changeSets(node: "360100")
        let header = try RequestSignature.header(node: "360100", key: s.key100, method: "POST", target: target, body: body, now: Date())
        let fd = try RawConnection.open(to: s.federation.deployment.hub.port, sending: "POST \(target) HTTP/1.1\r\nHost: x\r\n"
            + "Authorization: \(header)\r\nContent-Type: \(HubPaths.envelopeType)\r\nContent-Length: \(body.count)\r\n\r\n", timeout: 30)
        _ = body.prefix(body.count / 2).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(fd)
        var cut = ""
        for _ in 0..<40 where !cut.contains("could not be read whole") {
            try await Task.sleep(for: .milliseconds(250))
            cut = try String(contentsOf: s.federation.logs.appendingPathComponent("hub.log"), encoding: .utf8)
        }
        #expect(cut.contains("could not be read whole") && !cut.contains("failed POST"), "\(cut.suffix(2000))")
        // The hub logged each refusal with the node and the reason, one line each.
        let log = try String(contentsOf: s.federation.logs.appendingPathComponent("hub.log"), encoding: .utf8)
        #expect(log.contains("refused POST /v1/nodes/360100/changesets code=inconsistent node=360100"), "\(log.suffix(2000))")
        #expect(log.contains("code=replayed node=360100"))
        #expect(!log.contains("HubError("), "no struct dumps in the log")
        // An operator's action beside the running hub appears in the hub's log, with who did it
        // (one that changes something: the same subscription again is no action).
        let subscribed = try await CLI.run(["hub", "node", "subscribe", "--config", s.federation.deployment.hubConfig.path, "--id", "360700", "--items", "administrative-permit"])
        #expect(subscribed.status == 0, "\(subscribed.stderr)")
        var logged = false
        for _ in 0..<60 where !logged {
            try await Task.sleep(for: .milliseconds(250))
            logged = try String(contentsOf: s.federation.logs.appendingPathComponent("hub.log"), encoding: .utf8)
                .contains("admin action node-subscribe 360700")
        }
        #expect(logged, "the hub logged the operator's subscribe")
        // Its metrics carry the build and every route's requests.
        let metrics = try await LoopbackHTTP.request(s.operatorURL + "/metrics", headers: ["Authorization": "Bearer \(s.operatorToken)"])
        #expect(metrics.body.contains("creditsync_build_info{"))
        #expect(metrics.body.contains("hb_requests_total{http_route=\"/v1/nodes/{node}/changesets\""), "\(metrics.body.prefix(3000))")
        // Both daemons' exposition passes Prometheus' own checker, names and help included, after
        // every attack above has left its series (`promtool check metrics`, from Debian's prometheus).
        let nodeMetrics = try await LoopbackHTTP.request(s.nodeURL + "/metrics")
        for (daemon, body) in [("hub", metrics.body), ("node", nodeMetrics.body)] {
            let file = s.federation.logs.appendingPathComponent("\(daemon).metrics")
            try Data(body.utf8).write(to: file)
            let check = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "promtool check metrics < '\(file.path)'"])
            #expect(check.status == 0, "\(daemon): \(check.stdout)\(check.stderr)")
        }
    }

    /// Every route × every caller it must not admit: 401 (or 403 for a known caller without the
    /// right), and every caller it admits gets past authentication.
    @Test func everyRouteRefusesEveryCallerItDoesNotAdmit() async throws {
        let s = try await Setting()
        defer { s.tearDown() }
        // The hub's node routes, each for node 360100.
        let hubRoutes: [(String, String, [UInt8])] = [
            ("POST", HubPaths.changeSets(node: "360100"), try SyncFixtures.changeSet(key: s.key100, after: Self.strangerFrontier(s.log100 + 3), count: 1).0.encoded),
            ("GET", HubPaths.position(node: "360100"), []),
            ("GET", HubPaths.fanOut(node: "360100") + "?after=0&wait=0", []),
            ("GET", HubPaths.recover(node: "360100") + "?after=0", []),
            ("POST", HubPaths.fanOutAck(node: "360100"), Array(#"{"through":0}"#.utf8)),
            ("GET", HubPaths.subject(node: "360100", subject: "uscc:91110000600037341L"), []),
        ]
        for (method, target, body) in hubRoutes {
            let anonymous = try await LoopbackHTTP.request(s.hubURL + target, method: method, body: body.isEmpty ? nil : Data(body))
            #expect(anonymous.status == 401, "anonymous \(method) \(target)")
            for (role, node, key) in [("unenrolled key", "360100", SigningKey()), ("another node", "360700", s.key700),
                                      ("revoked node", "360400", s.revokedKey)] {
                let reply = try await s.signed(method, target, node: node, key: key, body: body)
                #expect(reply.status == 401, "\(role) \(method) \(target): \(reply.status)")
            }
            let own = try await s.signed(method, target, body: body)
            #expect(own.status != 401 && own.status != 403, "the node itself \(method) \(target): \(own.status) \(own.body.prefix(200))")
        }
        // The hub's public routes need nothing.
        for path in ["/healthz", "/readyz", HubPaths.reference, HubPaths.logHead, HubPaths.consistency + "?first=0&second=\(s.hubLog)"] {
            #expect(try await LoopbackHTTP.request(s.hubURL + path).status == 200, "\(path)")
        }
        // The operator routes: the token, on the operator listener only.
        for path in ["/", "/v1/status", "/metrics"] {
            #expect(try await LoopbackHTTP.request(s.operatorURL + path).status == 401, "\(path) without a token")
            #expect(try await LoopbackHTTP.request(s.operatorURL + path, headers: ["Authorization": "Bearer nope"]).status == 401)
            #expect(try await LoopbackHTTP.request(s.operatorURL + path, headers: ["Authorization": "Bearer \(s.operatorToken)"]).status == 200)
            #expect(try await LoopbackHTTP.request(s.hubURL + path).status == 404, "\(path) on the nodes' listener")
        }
        // The provider API.
        let record = try JSONEncoder().encode(Setting.records("360700", 200..<201)[0])
        let json = try #require(try JSONSerialization.jsonObject(with: record) as? [String: Any])
        let provider = SyntheticRecords(division: "360700").regulatorCode
        let recordId = try #require(json["recordId"] as? String)
        let subject = try #require((json["subject"] as? [String: Any])?["uscc"] as? String)
        let amend = try JSONSerialization.data(withJSONObject: ["record": json, "reason": "复议变更", "decisionDocument": "洪复决〔2026〕9号"])
        let revocation = Data(#"{"reason":"撤销","decisionDocument":"洪复决〔2026〕9号"}"#.utf8)
        let providerRoutes: [(String, String, Data?, String?)] = [
            ("POST", "/v1/records", record, "application/json"),
            ("POST", "/v1/records/import", Data("a,b\n".utf8), "text/csv"),
            ("POST", "/v1/records/administrative-punishment/\(recordId)/correct", amend, "application/json"),
            ("POST", "/v1/records/administrative-punishment/\(recordId)/revoke", revocation, "application/json"),
            ("GET", "/v1/providers/\(provider)/records/administrative-punishment/\(recordId)?purpose=audit", nil, nil),
            ("GET", "/v1/subjects/\(subject)/records?purpose=audit", nil, nil),
            ("POST", "/v1/objections", Data(#"{"provider":"\#(provider)","item":"administrative-punishment","recordId":"\#(recordId)","applicant":"a","grounds":"b"}"#.utf8), "application/json"),
            ("POST", "/v1/restorations", Data(#"{"provider":"\#(provider)","item":"administrative-punishment","recordId":"\#(recordId)","applicant":"a","statement":"b"}"#.utf8), "application/json"),
            ("POST", "/v1/records/administrative-punishment/\(recordId)/list-removal", Data(#"{"reason":"a","decisionDocument":"b"}"#.utf8), "application/json"),
            ("POST", "/v1/cases/360700-1/events", Data(#"{"event":"resumed"}"#.utf8), "application/json"),
            ("GET", "/v1/cases/360700-1", nil, nil),
            ("GET", "/v1/subjects/uscc:\(subject)/report", nil, nil),
        ]
        for (method, path, body, type) in providerRoutes {
            for (role, token) in [("anonymous", nil), ("made-up token", "cs_p00000000_forged"), ("revoked token", s.revokedToken)] as [(String, String?)] {
                let reply = try await s.provider(method, path, token: token, body: body, contentType: type)
                #expect(reply.status == 401, "\(role) \(method) \(path): \(reply.status)")
            }
            let writer = try await s.provider(method, path, token: s.writerToken, body: body, contentType: type)
            #expect(writer.status != 401 && writer.status != 403, "the writer \(method) \(path): \(writer.status) \(writer.body.prefix(200))")
        }
        // The limited credential: no reads, no writes outside its item.
        for (method, path, body, type) in providerRoutes
        where method == "GET" || path.hasSuffix("/revoke") || path.hasSuffix("/correct") || path.hasSuffix("/list-removal") {
            let reply = try await s.provider(method, path, token: s.limitedToken, body: body, contentType: type)
            #expect(reply.status == 403, "limited \(method) \(path): \(reply.status) \(reply.body.prefix(200))")
        }
    }
}
