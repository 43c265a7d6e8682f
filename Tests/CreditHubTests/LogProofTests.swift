import CreditCore
@testable import CreditHub
import CreditNode
import CreditTesting
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SyncProtocol
import SyncTransport
import Testing

/// The hub log is tamper-evident in practice (`Protocol/hub-api.md`, Log proofs): its proofs are
/// served and verify, nodes check every new head against the one they pinned, and a head a
/// node pinned that the log does not contain is reported at the hub.
@Suite struct LogProofTests {
    /// Proofs built from the stored subtrees verify against the heads the hub's frontier gave at
    /// every size along the way: two independent computations of the same tree.
    @Test func servedProofsJoinEveryHeadTheHubEverSigned() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700"])
        var heads: [TreeHead] = [try h.store.hubHead()]
        for round in 0..<9 {
            let f = nodes[round % 2]
            _ = try f.service.submit(f.punishments(round * 7..<(round * 7 + round + 1)), by: f.identity)
            _ = try await h.pusher(f).pushOnce()
            heads.append(try h.store.hubHead())
        }
        let last = heads.last!
        #expect(last.size == 45)
        for old in heads {
            #expect(try h.store.hubRoot(size: old.size) == old.root)
            for new in heads where new.size >= old.size {
                let proof = try h.hub.consistencyProof(first: old.size, second: new.size)
                #expect(MerkleProof.verifyConsistency(old: old, new: new, proof: proof), "\(old) → \(new)")
                if let first = proof.first, new.size > old.size, old.size > 0 {
                    var bent = proof
                    bent[0] = MerkleHash.node(first, first)
                    #expect(!MerkleProof.verifyConsistency(old: old, new: new, proof: bent))
                }
            }
        }
        for position in UInt64(1)...last.size {
            let (leaf, proof) = try h.hub.inclusionProof(position: position, size: last.size)
            #expect(MerkleProof.verifyInclusion(leafHash: leaf, index: position - 1, size: last.size, proof: proof, root: last.root))
        }
        #expect(throws: HubError.self) { try h.hub.consistencyProof(first: 3, second: last.size + 1) }
        #expect(throws: HubError.self) { try h.hub.consistencyProof(first: 9, second: 8) }
        #expect(throws: HubError.self) { try h.hub.inclusionProof(position: 0, size: 3) }
    }

    /// The endpoints over HTTP, in process: the signed head verifies with the hub's key, the
    /// JSON proofs verify against it, and bad ranges are 400 `beyond-log` / `bad-request`.
    @Test func theLogEndpointsAnswerProofsThatVerify() async throws {
        let (h, nodes) = try HubFixture.federation(["360100"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<13), by: nodes[0].identity)
        _ = try await h.pusher(nodes[0]).pushOnce()
        let pinnedAt5 = TreeHead(size: 5, root: try h.store.hubRoot(size: 5)!)
        let app = Application(router: HubAPI.router(service: h.hub))
        try await app.test(.router) { client in
            let head = try await client.execute(uri: HubPaths.logHead, method: .get) { response in
                #expect(response.status == .ok)
                return try SignedTreeHead.open(Array(buffer: response.body), signer: "360000", keys: h.pinned)
            }
            #expect(head.head == (try h.store.hubHead()))
            try await client.execute(uri: HubPaths.consistency + "?first=5&second=13", method: .get) { response in
                #expect(response.status == .ok)
                let answer = try JSONDecoder().decode(ConsistencyProofAnswer.self, from: Data(buffer: response.body))
                #expect(MerkleProof.verifyConsistency(old: pinnedAt5, new: head.head, proof: answer.proof.compactMap { Hash32(hex: $0) }))
            }
            try await client.execute(uri: HubPaths.inclusion + "?position=13&size=13", method: .get) { response in
                struct Answer: Decodable { var leafHash: String; var proof: [String] }
                let answer = try JSONDecoder().decode(Answer.self, from: Data(buffer: response.body))
                #expect(MerkleProof.verifyInclusion(leafHash: Hash32(hex: answer.leafHash)!, index: 12, size: 13,
                                                    proof: answer.proof.compactMap { Hash32(hex: $0) }, root: head.head.root))
            }
            for (query, code) in [("?first=5&second=14", "beyond-log"), ("?first=6&second=5", "beyond-log"), ("?first=-1&second=5", "bad-request"),
                                  ("?second=5", "bad-request"), ("?first=1&second=9223372036854775808", "bad-request")] {
                try await client.execute(uri: HubPaths.consistency + query, method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(String(buffer: response.body).contains("\"\(code)\""), "\(query)")
                }
            }
        }
    }

    /// An in-memory hub, node 360100 pushing to it and node 360700 pulling its fan-out.
    func senderAndReceiver() async throws -> (InMemoryHub, NodeFixture, NodeFixture, Pusher, Receiver) {
        let hub = InMemoryHub()
        let sender = try NodeFixture(node: "360100")
        let receiverNode = try NodeFixture(node: "360700", readScope: .all)
        try await hub.enroll(sender.key.publicKey, node: "360100")
        let pusher = Pusher(node: "360100", store: sender.service.store, transport: hub, key: sender.key, hub: "360000", hubKeys: hub.publicKeys)
        let receiver = Receiver(node: "360700", store: receiverNode.service.store, transport: hub, hub: "360000", hubKeys: hub.publicKeys,
                                reference: { Fixtures.reference })
        return (hub, sender, receiverNode, pusher, receiver)
    }

    /// The consistency header travels outside the batch's signature: one altered on the way
    /// (the right sizes, wrong hashes) is not taken for the hub's history rewritten. The node
    /// asks for the proof itself, which verifies, and applies the batch.
    @Test func aConsistencyHeaderAlteredOnTheWayIsNotAHistoryConflict() async throws {
        final class Tampering: ForwardingTransport, @unchecked Sendable {
            let keys: KeyRegistry
            init(_ hub: InMemoryHub) {
                keys = hub.publicKeys
                super.init(hub)
            }

            override func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
                var answer = try await inner.pull(node: node, request)
                if let pinned = request.pinned, pinned > 0, let batch = try? FanOutBatch.open(answer.batch, hub: "360000", keys: keys),
                   batch.hubLog.size > pinned {
                    answer.consistency = .init(first: pinned, second: batch.hubLog.size, proof: [Hash32.sha256(Array("forged".utf8))])
                }
                return answer
            }
        }
        let (hub, sender, receiverNode, pusher, _) = try await senderAndReceiver()
        let receiver = Receiver(node: "360700", store: receiverNode.service.store, transport: Tampering(hub), hub: "360000",
                                hubKeys: hub.publicKeys, reference: { Fixtures.reference })
        _ = try sender.service.submit(sender.punishments(0..<6), by: sender.identity)
        _ = try await pusher.pushOnce()
        #expect(try await receiver.pullOnce(wait: 0) == 6)
        _ = try sender.service.submit(sender.punishments(6..<9), by: sender.identity)
        _ = try await pusher.pushOnce()
        #expect(try await receiver.pullOnce(wait: 0) == 3)
        #expect(try receiverNode.service.store.hubHistoryConflicts() == 0)
        #expect(try receiverNode.service.store.fanOutPosition() == 9)
    }

    /// A hub that shows a node another history: the node keeps both heads as evidence, reports
    /// the conflict in its metrics, and reads the fan-out again; nothing is lost.
    @Test func aNodeCatchesAHubThatRewritesItsHistory() async throws {
        let (hub, sender, receiverNode, pusher, receiver) = try await senderAndReceiver()
        _ = try sender.service.submit(sender.punishments(0..<6), by: sender.identity)
        _ = try await pusher.pushOnce()
        #expect(try await receiver.pullOnce(wait: 0) == 6)
        let pinned = try #require(try receiverNode.service.store.pinnedHubHead())
        #expect(pinned.size == 6)

        // Growing honestly: the proof joins the heads and the new entries apply.
        _ = try sender.service.submit(sender.punishments(6..<9), by: sender.identity)
        _ = try await pusher.pushOnce()
        #expect(try await receiver.pullOnce(wait: 0) == 3)
        #expect(try receiverNode.service.store.hubHistoryConflicts() == 0)
        // The pinned head travels with the next push.
        _ = try receiverNode.service.submit(receiverNode.punishments(0..<1), by: receiverNode.identity)
        try await hub.enroll(receiverNode.key.publicKey, node: "360700")
        _ = try await Pusher(node: "360700", store: receiverNode.service.store, transport: hub, key: receiverNode.key, hub: "360000",
                             hubKeys: hub.publicKeys).pushOnce()
        #expect(await hub.pinnedReports["360700"]?.size == 9)

        // Rewritten: the same entries in another order. The node notices, keeps the evidence, starts over.
        await hub.rewriteHistory()
        _ = try sender.service.submit(sender.punishments(9..<10), by: sender.identity)
        _ = try await pusher.pushOnce()
        #expect(try await receiver.pullOnce(wait: 0) == 0)
        #expect(try receiverNode.service.store.hubHistoryConflicts() == 1)
        #expect(try receiverNode.service.store.fanOutPosition() == 0)
        #expect(try receiverNode.service.metricsExposition().contains("creditsync_node_hub_history_conflicts 1"))
        // Re-reading the fan-out from the start converges on what the hub holds now.
        while try await receiver.pullOnce(wait: 0) > 0 {}
        #expect(try receiverNode.service.store.fanOutPosition() == 11)
        #expect(try receiverNode.service.store.hubHistoryConflicts() == 1)
        // Its own record and the sender's ten.
        #expect(try receiverNode.service.store.stateDigest().records == 11)
    }

    /// hub-api.md: a head of the pinned size MUST be the pinned head, and a shorter one is a
    /// conflict too (no proof is asked for either): the node keeps both heads and starts over.
    @Test func aHeadOfThePinnedSizeWithAnotherRootOrAShorterOneIsAConflict() async throws {
        let (hub, sender, receiverNode, pusher, receiver) = try await senderAndReceiver()
        let store = receiverNode.service.store
        _ = try sender.service.submit(sender.punishments(0..<6), by: sender.identity)
        _ = try await pusher.pushOnce()
        #expect(try await receiver.pullOnce(wait: 0) == 6)
        let pinned = try #require(try store.pinnedHubHead())

        // The same six entries in another order: the same size, another root.
        await hub.rewriteHistory()
        #expect(try await receiver.pullOnce(wait: 0) == 0)
        #expect(try store.hubHistoryConflicts() == 1)
        #expect(try store.fanOutPosition() == 0)
        #expect(try store.pinnedHubHead() == nil)
        // Read again from the start: every record was held, so nothing changes, and the new head is pinned.
        #expect(try await receiver.pullOnce(wait: 0) == 0)
        let rewritten = try #require(try store.pinnedHubHead())
        #expect(rewritten.size == pinned.size && rewritten.root != pinned.root)

        // Four entries where six were pinned.
        await hub.truncateLog(to: 4)
        #expect(try await receiver.pullOnce(wait: 0) == 0)
        #expect(try store.hubHistoryConflicts() == 2)
        #expect(try store.fanOutPosition() == 0)
        _ = try await receiver.pullOnce(wait: 0)
        #expect(try store.fanOutPosition() == 4)
        #expect(try store.pinnedHubHead()?.size == 4)
        #expect(try store.stateDigest().records == 6, "nothing the node held was lost")
    }

    /// A push whose pinned head the log does not contain is taken, and reported once.
    @Test func theHubReportsAPinnedHeadItsLogDoesNotContain() async throws {
        let (h, nodes) = try HubFixture.federation(["360100"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<4), by: nodes[0].identity)
        _ = try await h.pusher(nodes[0]).pushOnce()
        let honest = try h.store.hubHead()
        try h.hub.checkPinned(node: "360100", head: honest)
        try h.hub.checkPinned(node: "360100", head: TreeHead(size: 2, root: try h.store.hubRoot(size: 2)!))
        #expect(try h.store.forkReports().isEmpty)
        let other = TreeHead(size: 3, root: MerkleHash.leaf([1, 2, 3]))
        let beyond = TreeHead(size: 40, root: honest.root)
        for _ in 0..<3 {
            try h.hub.checkPinned(node: "360100", head: other)
            try h.hub.checkPinned(node: "360100", head: beyond)
        }
        let reports = try h.store.forkReports()
        #expect(reports.count == 2)
        #expect(Set(reports.map(\.pinnedSize)) == [3, 40])
        let snapshot = try h.hub.snapshot()
        #expect(snapshot.forkReports.count == 2)
        // Operators see them where they look: the status table and the dashboard.
        #expect(StatusTable.render(snapshot).contains("FORK: node 360100 pinned a hub log of 40 changes this hub does not contain"))
        #expect(Dashboard.html(snapshot).contains("Fork reports: nodes pinned a hub log this hub does not contain"))
        #expect(!Dashboard.html(try HubFixture.federation(["360100"]).0.hub.snapshot()).contains("Fork reports"))
        #expect(try h.hub.metricsExposition().contains("creditsync_hub_fork_reports_total{node=\"360100\"} 2"))
        #expect(try h.store.hubHead() == honest)
    }

    /// The heads a node reports are its own word: one that pins a new made-up head with every
    /// push keeps only its first reports, and another node's genuine report stays in view.
    @Test func aNodeFloodingForkReportsNeitherFillsTheStoreNorHidesAnothersReport() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<4), by: nodes[0].identity)
        _ = try await h.pusher(nodes[0]).pushOnce()
        try h.hub.checkPinned(node: "360700", head: TreeHead(size: 3, root: MerkleHash.leaf([7])))
        h.clock.advance(by: 1)
        for i in 0..<200 {
            try h.hub.checkPinned(node: "360100", head: TreeHead(size: 3, root: MerkleHash.leaf(Array("forged \(i)".utf8))))
        }
        let kept = try await h.store.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM fork_report WHERE node = '360100'") }
        #expect(kept == HubStore.forkReportsKeptPerNode)
        #expect(try h.store.forkReports().contains { $0.node == "360700" })
        #expect(try h.hub.metricsExposition().contains("creditsync_hub_fork_reports_total{node=\"360100\"} \(HubStore.forkReportsKeptPerNode)"))
    }

    /// The dashboard says a node is silent a minute after it stopped asking (it long-polls every
    /// 25 s at most), not only once the 15-minute alert fires.
    @Test func theDashboardShowsASilentNodeAtOnce() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700"])
        func row(_ node: String) throws -> String {
            let html = Dashboard.html(try h.hub.snapshot())
            return String(try #require(html.components(separatedBy: "\n").first { $0.contains("<td>\(node)</td>") }))
        }
        #expect(try row("360700").contains("active, never seen"))
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<1), by: nodes[0].identity)
        _ = try await h.pusher(nodes[0]).pushOnce()
        #expect(try row("360100").contains("<td>active</td>"))
        h.clock.advance(by: 120)
        let silent = try row("360100")
        #expect(silent.contains("active, silent 2 min") && silent.hasPrefix("<tr class=\"warn\">"), "\(silent)")
    }
}
