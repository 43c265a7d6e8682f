import CreditCore
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// The two promises of `Protocol/merge.md`: every node ends on the hub's decision, and only a
/// record's home changes it. Each test first reproduced a defect of issue 12 from the outside
/// (real stores, the real protocol) and passes since the merge rules landed.
@Suite struct ConvergenceTests {
    let item = "administrative-punishment"

    func federation(_ ids: [String], clock: Date = NodeFixture.now) throws -> (HubFixture, [NodeFixture]) {
        try HubFixture.federation(ids, clock: clock)
    }

    func sync(_ h: HubFixture, _ nodes: [NodeFixture]) async throws {
        for _ in 0..<2 {
            for n in nodes { while try await h.pusher(n).pushOnce() > 0 {} }
            for n in nodes { while try await h.receiver(n).pullOnce(wait: 0) > 0 {} }
        }
    }

    /// Every node's state digest equals the hub's.
    func expectConverged(_ h: HubFixture, _ nodes: [NodeFixture], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let hub = try h.store.stateDigest()
        for n in nodes {
            #expect(try n.service.store.stateDigest() == hub, "node \(n.service.node) diverged from the hub", sourceLocation: sourceLocation)
            // Every change the hub acknowledged had one outcome: logged, a route, or refused.
            let acknowledged = try h.store.position(node: n.service.node)?.acknowledged ?? 0
            let odd = try h.store.changesWithoutOneOutcome(node: n.service.node, through: acknowledged)
            #expect(odd.isEmpty, "node \(n.service.node): \(odd)", sourceLocation: sourceLocation)
        }
    }

    /// A credential of node 0's unit at `node`, as when a unit writes through two nodes.
    func sameUnit(_ h: HubFixture, _ nodes: [NodeFixture], at node: Int) throws -> ProviderIdentity {
        let made = try nodes[node].service.store.addCredential(name: "same unit", unit: try UnifiedSocialCreditCode.parse(nodes[0].identity.unit), writeItems: nil,
                                                                readScope: .all, at: h.now)
        return try #require(try nodes[node].service.store.authenticate(token: made.token))
    }

    /// Record `index` of node 0's unit, with its content changed when `variant` is set.
    func record(_ nodes: [NodeFixture], _ index: Int, variant: String? = nil) -> JSONValue {
        var json = nodes[0].punishments(index..<index + 1)[0]
        if let variant, case var .object(o) = json, case var .object(fields)? = o["fields"] {
            fields["CF_NR"] = .string(variant)
            o["fields"] = .object(fields)
            json = .object(o)
        }
        return json
    }

    @Test(arguments: [[0, 1], [1, 0]])
    func aRaceBetweenTwoNodesEndsWithEveryNodeOnTheHubsVersion(order: [Int]) async throws {
        let (h, nodes) = try federation(["360100", "360400", "360700"])
        let identities = [nodes[0].identity, try sameUnit(h, nodes, at: 1)]
        // The same record, two versions, written at two nodes before either has heard of the other.
        let versions = [record(nodes, 7), record(nodes, 7, variant: "罚款9999元")]
        for i in 0..<2 { _ = try nodes[i].service.submit([versions[i]], by: identities[i]) }
        for i in order { while try await h.pusher(nodes[i]).pushOnce() > 0 {} }
        try await sync(h, nodes)

        let key = "\(nodes[0].identity.unit)/\(item)/CF-360100-2026-7"
        let held = try #require(try h.store.record(key))
        #expect(held.origin == nodes[order[0]].service.node, "the first create the hub merged makes the record's home")
        try expectConverged(h, nodes)
        // The node whose version lost holds the winner, and says who keeps the record.
        let loser = nodes[order[1]]
        let recordKey = RecordKey(provider: nodes[0].identity.unit, item: item, recordId: "CF-360100-2026-7")
        #expect(try loser.service.store.record(recordKey)?.originNode == nodes[order[0]].service.node)
        #expect(try h.store.conflicts().count == 1)
        #expect(try h.store.refusals().map(\.code) == ["not-home"])
        // The loser's provider is now told to write at the home.
        let again = try loser.service.submit([versions[order[1]]], by: identities[order[1]])
        #expect(again[0].status == .rejected && again[0].errors?.first?.code == "not-home")
        // The winner's content created again there is a duplicate, as anywhere (merge.md §1).
        let winner = try loser.service.submit([versions[order[0]]], by: identities[order[1]])
        #expect(winner[0].status == .duplicate, "\(winner)")
        // So are the single-record routes (records.md: 409 not-home), and they change nothing.
        let before = try loser.service.store.stateDigest()
        func refusal(_ body: () throws -> NodeService.SubmitResult) -> NodeError? {
            do { _ = try body(); return nil } catch let e as NodeError { return e } catch { return nil }
        }
        let correction = refusal {
            try loser.service.correct(item: item, recordId: "CF-360100-2026-7", record: record(nodes, 7, variant: "罚款5000元"),
                                      reason: "复议变更", decisionDocument: "洪复决〔2026〕7号", effectiveAt: nil, by: identities[order[1]])
        }
        #expect(correction?.status == .conflict && correction?.code == "not-home", "\(String(describing: correction))")
        let revocation = refusal {
            try loser.service.revoke(item: item, recordId: "CF-360100-2026-7", reason: "撤销", decisionDocument: "洪复决〔2026〕8号",
                                     effectiveAt: nil, by: identities[order[1]])
        }
        #expect(revocation?.status == .conflict && revocation?.code == "not-home", "\(String(describing: revocation))")
        #expect(try loser.service.store.stateDigest() == before)
    }

    @Test func aLaterWriteAtAnotherNodeSecondsAfterwardsIsRefusedAndUndone() async throws {
        let (h, nodes) = try federation(["360100", "360400"])
        let other = try sameUnit(h, nodes, at: 1)
        _ = try nodes[0].service.submit([record(nodes, 3)], by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        h.clock.advance(by: 5)
        // Node 1 has not pulled yet: it takes its own version.
        _ = try nodes[1].service.submit([record(nodes, 3, variant: "罚款1元")], by: other)
        try await sync(h, nodes)
        try expectConverged(h, nodes)
        let key = RecordKey(provider: nodes[0].identity.unit, item: item, recordId: "CF-360100-2026-3")
        let history = try #require(try nodes[1].service.store.record(key)).history
        #expect(history.last?.originNode == "360100", "the hub's version is applied over the refused one")
        // The refused write had its outcome (a refusal row); a sequence the hub never took has none.
        let acknowledged = try #require(try h.store.position(node: "360400")?.acknowledged)
        #expect(try h.store.refusals().contains { $0.node == "360400" && $0.sequence == acknowledged })
        #expect(try h.store.changesWithoutOneOutcome(node: "360400", through: acknowledged + 1).map(\.sequence) == [acknowledged + 1])
    }

    @Test func anotherNodeCannotCorrectOrRevokeARecord() async throws {
        let (h, nodes) = try federation(["360100", "360400"])
        _ = try nodes[0].service.submit([record(nodes, 2)], by: nodes[0].identity)
        try await sync(h, nodes)
        let before = try h.store.stateDigest()
        let key = RecordKey(provider: nodes[0].identity.unit, item: item, recordId: "CF-360100-2026-2")

        // Node 1 signs, with its own enrolled key, a correction and a revocation of node 0's record.
        let corrected = try #require(Fixtures.validator.validate(record(nodes, 2, variant: "罚款1元")).accepted).canonicalJSON
        let changes = [
            Change(node: "360400", sequence: 1, key: key, operation: .correct, credential: "c", reason: "改", decisionDocument: "文1",
                   effectiveAt: 1, acceptedAt: UInt64(h.now.timeIntervalSince1970 * 1000), catalogVersion: Fixtures.reference.catalog.version,
                   payload: corrected),
            Change(node: "360400", sequence: 2, key: key, operation: .revoke, credential: "c", reason: "撤", decisionDocument: "文2",
                   effectiveAt: 1, acceptedAt: UInt64(h.now.timeIntervalSince1970 * 1000), catalogVersion: Fixtures.reference.catalog.version,
                   payload: []),
        ].map(\.encoded)
        let set = try ChangeSet(node: "360400", keyId: nodes[1].key.keyId, encodedChanges: changes, before: MerkleFrontier(), createdAt: 1)
        _ = try await h.transport.push(node: "360400", envelope: try set.signed(with: nodes[1].key).encoded)

        #expect(try h.store.stateDigest() == before, "a refused change changes nothing")
        #expect(try h.store.record(key.description)?.status == "active")
        #expect(try h.store.refusals().map(\.code) == ["not-home", "not-home"])
        #expect(h.hub.metrics.exposition().contains(#"creditsync_hub_refused_changes_total{node="360400",code="not-home"} 2"#))
        #expect(try h.hub.snapshot().refusals.count == 2)
        for n in nodes { while try await h.receiver(n).pullOnce(wait: 0) > 0 {} }
        #expect(try nodes[0].service.store.record(key)?.status == "active")
        #expect(try nodes[0].service.store.record(key)?.version == 1)
    }

    /// A change with the given payload, from node 360400 sequence 1.
    func forged(_ payload: [UInt8], recordId: String = "CF-360100-2026-9", item: String = "administrative-punishment",
                provider: String = "11360100000001001X", catalog: String = Fixtures.reference.catalog.version,
                acceptedAt: Date = NodeFixture.now) -> [UInt8] {
        Change(node: "360400", sequence: 1, key: RecordKey(provider: provider, item: item, recordId: recordId), operation: .create,
               credential: "c", effectiveAt: 1, acceptedAt: UInt64(acceptedAt.timeIntervalSince1970 * 1000), catalogVersion: catalog,
               payload: payload).encoded
    }

    @Test func theHubRefusesRecordsThatFailTheCatalogAndSpreadsNone() async throws {
        let (h, nodes) = try federation(["360100", "360400"])
        let valid = try #require(Fixtures.validator.validate(record(nodes, 9)).accepted)
        let text = String(decoding: valid.canonicalJSON, as: UTF8.self)
        let provider = nodes[0].identity.unit
        func payload(_ replace: (String) -> String) -> [UInt8] { Array(replace(text).utf8) }
        let subjectCode = valid.record.subject.uscc ?? ""
        let wrongCheck = String(subjectCode.dropLast()) + (subjectCode.last == "X" ? "Y" : "X")
        let wrongProvider = String(provider.dropLast()) + (provider.last == "X" ? "Y" : "X")
        // A node writing a future time cannot widen "today" past a day after the hub received
        // the set (merge.md §2): a decision two days ahead, accepted "three days ahead", is refused.
        let inTwoDays = ChinaTime.date(of: NodeFixture.now.addingTimeInterval(2 * 86_400)).description
        let cases: [(String, [UInt8], String, String)] = [
            ("unknown field", forged(payload { $0.replacingOccurrences(of: #""fields":{"#, with: #""fields":{"ZZ_UNKNOWN":"1","#) }, provider: provider),
             "invalid-record", "fields.ZZ_UNKNOWN"),
            ("wrong USCC check character", forged(payload { $0.replacingOccurrences(of: subjectCode, with: wrongCheck) }, provider: provider),
             "invalid-record", "subject.uscc"),
            ("decision date in 2099", forged(payload { $0.replacingOccurrences(of: "2026-06-01", with: "2099-06-01") }, provider: provider), "invalid-record", ""),
            ("a future acceptedAt widening today", forged(payload { $0.replacingOccurrences(of: "2026-06-01", with: inTwoDays) },
                                                          provider: provider, acceptedAt: NodeFixture.now.addingTimeInterval(3 * 86_400)), "invalid-record", ""),
            ("not JSON", forged(Array("not json".utf8), provider: provider), "invalid-record", "payload"),
            ("item differs from the payload's", forged(valid.canonicalJSON, item: "administrative-permit", provider: provider), "key-mismatch", "item"),
            ("record id differs from the payload's", forged(valid.canonicalJSON, recordId: "CF-360100-2026-8", provider: provider), "key-mismatch", "recordId"),
            ("the provider's check character", forged(valid.canonicalJSON, provider: wrongProvider), "invalid-record", "provider"),
            ("the provider spelled other than as its code", forged(valid.canonicalJSON, provider: " \(provider.lowercased()) "), "invalid-record", "provider"),
            ("a catalog layer the hub does not hold", forged(valid.canonicalJSON, provider: provider, catalog: "national@0.0-forged"), "catalog-version",
             "catalogVersion"),
            ("an item of a layer the change's catalog does not name", forged(valid.canonicalJSON, provider: provider, catalog: "jiangxi@2026.1"),
             "catalog-version", "catalogVersion"),
            ("valid, but not the canonical JSON", forged(payload { $0.replacingOccurrences(of: #""fields":{"#, with: #""fields": {"#) }, provider: provider),
             "not-canonical", "payload"),
        ]
        var frontier = MerkleFrontier()
        for (sequence, (name, bytes, code, field)) in cases.enumerated() {
            var change = try Change(decoding: bytes)
            change.sequence = UInt64(sequence + 1)
            let set = try ChangeSet(node: "360400", keyId: nodes[1].key.keyId, encodedChanges: [change.encoded], before: frontier, createdAt: 1)
            _ = try await h.transport.push(node: "360400", envelope: try set.signed(with: nodes[1].key).encoded)
            frontier = try set.extend(frontier)
            #expect(try h.store.refusals().count == sequence + 1, "\(name) was not refused")
            let refusal = try #require(try h.store.refusals(limit: 1).first, "\(name) was not refused")
            if !code.isEmpty { #expect(refusal.code == code, "\(name)") }
            if !field.isEmpty { #expect(refusal.field == field, "\(name): \(refusal.message)") }
            #expect(refusal.message.contains("CF-360100-2026-9"), "the refusal names the record: \(refusal.message)")
            if name == "the provider's check character" {
                #expect(refusal.message.contains("the check character is"), "\(refusal.message)")
                #expect(!refusal.message.contains("checkCharacter("), "a clerk's words, not a debug value: \(refusal.message)")
            }
        }
        #expect(try h.store.refusals().count == cases.count)
        #expect(try h.store.hubHead().size == 0, "nothing was merged or spread")
        #expect(try h.store.stateDigest().records == 0)
        for n in nodes { _ = try await h.receiver(n).pullOnce(wait: 0) }
        #expect(try nodes[0].service.store.stateDigest().records == 0)
        // The same record under a catalog version naming only the layer that defines its item merges.
        let definingLayer = try #require(Fixtures.reference.catalog.definingLayer(ofItem: item))
        var change = try Change(decoding: forged(valid.canonicalJSON, provider: provider, catalog: definingLayer))
        change.sequence = UInt64(cases.count + 1)
        let set = try ChangeSet(node: "360400", keyId: nodes[1].key.keyId, encodedChanges: [change.encoded], before: frontier, createdAt: 1)
        _ = try await h.transport.push(node: "360400", envelope: try set.signed(with: nodes[1].key).encoded)
        let last = try h.store.refusals(limit: 1)
        #expect(try h.store.hubHead().size == 1, "a change naming only \(definingLayer): \(last)")
    }

    /// Nanchang's record created and revoked, both at the hub; Ganzhou (360400) served nothing yet.
    func revokedAtTheHub() async throws -> (HubFixture, [NodeFixture]) {
        let (h, nodes) = try federation(["360100", "360400"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<1), by: nodes[0].identity)
        _ = try nodes[0].service.revoke(item: item, recordId: "CF-360100-2026-0", reason: "撤销", decisionDocument: "洪复决〔2026〕3号",
                                        effectiveAt: h.now, by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        return (h, nodes)
    }

    @Test func anAcknowledgementCannotClaimMoreThanWasServed() async throws {
        let (h, nodes) = try await revokedAtTheHub()
        // Node 1 has been served nothing: claiming the whole log is refused and closes nothing.
        for through: UInt64 in [1_000_000, 2] {
            let refused = await #expect(throws: TransportError.self) { try await h.transport.acknowledge(node: "360400", through: through) }
            #expect(refused == .refused(status: 409, code: "ack-beyond-served",
                                        message: "node 360400 acknowledged its fan-out through \(through), but was served only through 0"))
        }
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 0)
        #expect(try h.hub.correctionStatuses().first?.row.completedAt == nil)
        // Once served, the same acknowledgement is taken.
        _ = try await h.receiver(nodes[1]).pullOnce(wait: 0)
        #expect(try h.hub.correctionStatuses().first?.row.completedAt != nil)
    }

    /// Acknowledgements close only the windows at the positions they newly cover; a window held
    /// open by a node that is then revoked closes at the revocation, not at some later
    /// acknowledgement that covers nothing new.
    @Test func aWindowOnlyARevokedNodeHeldOpenClosesWhenItIsRevoked() async throws {
        let (h, nodes) = try await revokedAtTheHub()
        try h.enroll("360700", key: SyncFixtures.key("node-360700"))
        _ = try await h.receiver(nodes[1]).pullOnce(wait: 0)
        #expect(try h.hub.correctionStatuses().first?.row.completedAt == nil, "360700 has applied nothing")
        try h.store.revoke(node: "360700", at: h.now)
        #expect(try h.hub.correctionStatuses().first?.row.completedAt != nil)
    }

    /// A pull after P acknowledges P (hub-api.md, fan-out): a daemon's receiver sends no
    /// acknowledgement of its own, and the windows close all the same. A pull after more than
    /// was served acknowledges nothing.
    @Test func aPullAcknowledgesWhatItFollows() async throws {
        let (h, nodes) = try await revokedAtTheHub()
        _ = try await h.transport.pull(node: "360400", after: 1_000, waitSeconds: 0)
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 0, "beyond what was served: nothing")
        let receiver = h.receiver(nodes[1])
        _ = try await receiver.pullOnce(wait: 0, acknowledge: false)
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 0)
        #expect(try h.hub.correctionStatuses().first?.row.completedAt == nil)
        _ = try await receiver.pullOnce(wait: 0, acknowledge: false)
        #expect(try h.store.lags(now: h.now).first { $0.id == "360400" }?.fanOutApplied == 2)
        #expect(try h.hub.correctionStatuses().first?.row.completedAt != nil)
    }

    @Test func aNodeHoldingARecordDoesNotLogAnotherNodesIdenticalCopyAsANewVersion() async throws {
        let (h, nodes) = try federation(["360100", "360400"])
        let other = try sameUnit(h, nodes, at: 1)
        _ = try nodes[0].service.submit([record(nodes, 4)], by: nodes[0].identity)
        _ = try nodes[1].service.submit([record(nodes, 4)], by: other)
        try await sync(h, nodes)
        let key = RecordKey(provider: nodes[0].identity.unit, item: item, recordId: "CF-360100-2026-4")
        for n in nodes { #expect(try n.service.store.record(key)?.version == 1, "node \(n.service.node)") }
        try expectConverged(h, nodes)
        // The second node learns whose record it is: its provider's new version is refused there
        // (not-home), not taken and then undone by the hub.
        #expect(try nodes[1].service.store.record(key)?.originNode == "360100")
        let refused = try nodes[1].service.submit([record(nodes, 4, variant: "罚款7777元")], by: other)
        #expect(refused[0].status == .rejected && refused[0].errors?.first?.code == "not-home", "\(refused)")
        try expectConverged(h, nodes)
    }
}
