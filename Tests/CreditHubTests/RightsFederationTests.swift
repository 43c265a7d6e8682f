import CreditCore
import CreditDeploy
import CreditHub
@testable import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncProtocol
import SyncTransport
import Testing

/// Credit subjects' rights across the federation (`Protocol/rights.md`): nodes and the real hub
/// logic through the in-process transport, in virtual time.
@Suite struct RightsFederationTests {
    func sync(_ h: HubFixture, _ nodes: [NodeFixture]) async throws {
        for _ in 0..<2 {
            for n in nodes { while try await h.pusher(n).pushOnce() > 0 {} }
            for n in nodes { while try await h.receiver(n).pullOnce(wait: 0) > 0 {} }
        }
    }

    /// The refusal a call throws, as the provider API would answer it.
    func refusal(_ body: () throws -> Any) -> NodeError? {
        do { _ = try body(); return nil } catch let e as NodeError { return e } catch { return nil }
    }

    func key(_ node: NodeFixture, _ recordId: String, item: String = "administrative-punishment") -> RecordKey {
        RecordKey(provider: node.identity.unit, item: item, recordId: recordId)
    }

    /// Nanchang, Ganzhou and Yichun on one clock, with `records` of Nanchang's punishments everywhere.
    func threeCities(records: Int) async throws -> (HubFixture, [NodeFixture]) {
        let (h, nodes) = try HubFixture.federation(["360100", "360700", "360900"], sharedClock: true)
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<records), by: nodes[0].identity)
        try await sync(h, nodes)
        return (h, nodes)
    }

    /// Nanchang and Ganzhou on a hub stored in a fresh folder, with three of Nanchang's
    /// punishments everywhere and the hub then backed up (to restore it later in the test).
    func backedUpFederation(_ name: String) async throws -> (dir: URL, backupPath: String, hub: HubFixture, nodes: [NodeFixture]) {
        let dir = try Fixtures.temporaryDirectory(name)
        let hubPath = dir.appendingPathComponent("hub.sqlite").path, backupPath = dir.appendingPathComponent("backup.sqlite").path
        let (h, nodes) = try HubFixture.federation(["360100", "360700"], sharedClock: true, path: hubPath)
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<3), by: nodes[0].identity)
        try await sync(h, nodes)
        _ = try StoreBackup.backup(from: hubPath, to: backupPath)
        return (dir, backupPath, h, nodes)
    }

    /// Ganzhou's desk files an objection to Nanchang's record CF-360100-2026-1 (`nodes[0]` and
    /// `nodes[1]`), and every node syncs.
    func objectionAtGanzhou(_ h: HubFixture, _ nodes: [NodeFixture]) async throws -> (record: RecordKey, filed: NodeService.RightsReceipt) {
        let record = key(nodes[0], "CF-360100-2026-1")
        let filed = try nodes[1].service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                                       applicant: "赣江商贸有限公司", grounds: "记载有误", by: nodes[1].identity)
        try await sync(h, nodes)
        return (record, filed)
    }

    /// The serious-list entry of `Protocol/vectors/records.json`.
    func listEntry() -> JSONValue { NodeFixture.json(NodeFixture.seriousListEntry()) }

    /// A unit asked to check that has not answered when the case is decided no longer owes an
    /// answer: its window closes with the case, in time, and never turns breached later. (The
    /// units are typed as a clerk might, in lower case and with spaces: normalized at the desk.)
    @Test func theOutcomeClosesTheCheckWindowOfAUnitThatHadNotAnswered() async throws {
        let (h, nodes) = try await threeCities(records: 2)
        let (nanchang, ganzhou, yichun) = (nodes[0], nodes[1], nodes[2])
        let record = key(nanchang, "CF-360100-2026-1")
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                              applicant: "赣江商贸有限公司", grounds: "记载有误", by: ganzhou.identity)
        try await sync(h, nodes)
        _ = try nanchang.service.caseEvent("360700-1", event: "checks", units: [yichun.identity.unit.lowercased(), " \(ganzhou.identity.unit) "], by: nanchang.identity)
        try await sync(h, nodes)
        _ = try yichun.service.caseEvent("360700-1", event: "checked", finding: "无误", by: yichun.identity)
        try await sync(h, nodes)
        _ = try nanchang.service.caseEvent("360700-1", event: "rejected", reason: "经核查记载无误", by: nanchang.identity)
        try await sync(h, nodes)
        h.clock.advance(by: 20 * 86_400)
        let checks = try h.hub.snapshot(windows: .all).rights.filter { $0.name == .objectionCheck }
        #expect(checks.count == 2)
        #expect(checks.allSatisfy { $0.state == .met }, "\(checks.map { "\($0.unit ?? "") \($0.state)" })")
        #expect(checks.first { $0.unit == ganzhou.identity.unit }?.window.completedAt != nil)
    }

    /// rights.md §3: a revoked record takes no rights event but an objection's outcome; the
    /// objection it had is upheld by the revocation itself and closes everywhere.
    @Test func aRevokedRecordTakesOnlyItsObjectionsOutcome() async throws {
        let (h, nodes) = try await threeCities(records: 3)
        let (nanchang, ganzhou, yichun) = (nodes[0], nodes[1], nodes[2])
        let record = key(nanchang, "CF-360100-2026-1")
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                              applicant: "赣江商贸有限公司", grounds: "处罚决定已被撤销", by: ganzhou.identity)
        try await sync(h, nodes)
        _ = try nanchang.service.revoke(item: record.item, recordId: record.recordId, reason: "原处罚决定被依法撤销",
                                        decisionDocument: "洪市监撤〔2026〕1号", effectiveAt: nil, by: nanchang.identity)
        try await sync(h, nodes)
        let filing = refusal { try yichun.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                                                applicant: "另一申请人", grounds: "y", by: yichun.identity) }
        #expect(filing?.code == "revoked", "\(String(describing: filing))")
        let pause = refusal { try nanchang.service.caseEvent("360700-1", event: "paused", cause: "testing", by: nanchang.identity) }
        #expect(pause?.code == "revoked", "\(String(describing: pause))")
        #expect(pause?.message.contains("too late to pause the case") == true, "\(String(describing: pause))")
        _ = try nanchang.service.caseEvent("360700-1", event: "upheld", reason: "异议成立，原决定已撤销", by: nanchang.identity)
        try await sync(h, nodes)
        for n in nodes {
            let rights = try #require(try n.service.store.record(record)).rights
            #expect(rights.cases.map(\.id) == ["360700-1"] && rights.cases.first?.state == .upheld, "node \(n.service.node)")
            #expect(rights.pending.isEmpty, "node \(n.service.node)")
        }
        #expect(try h.hub.snapshot(windows: .all).rights.first { $0.name == .objectionHandling }?.state == .met)
    }

    /// A hub restored from an older backup has lost an objection it receipted, before the node
    /// that filed it saw it come back; the node had pinned a head the restored hub no longer
    /// holds (a hub history conflict). The node reads the restored hub's fan-out past where the
    /// objection had been merged, and does not take it for refused: the hub's position says it
    /// does not hold it. Once the pusher has re-fed the restored hub, the objection comes back
    /// and its case is the hub's, at both nodes, and never was listed refused.
    @Test func anObjectionAHubRestoredAfterAConflictLostIsSentAgainNotTakenForRefused() async throws {
        let dir = try Fixtures.temporaryDirectory("hub-restore-rights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hubPath = dir.appendingPathComponent("hub.sqlite").path, backupPath = dir.appendingPathComponent("backup.sqlite").path
        let (h, nodes) = try HubFixture.federation(["360100", "360700"], sharedClock: true, fanOutLimit: 2, path: hubPath)
        let (nanchang, ganzhou) = (nodes[0], nodes[1])
        _ = try nanchang.service.submit(nanchang.punishments(0..<3), by: nanchang.identity)
        try await sync(h, nodes)
        _ = try nanchang.service.submit(nanchang.punishments(3..<5), by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        _ = try StoreBackup.backup(from: hubPath, to: backupPath)

        // Ganzhou's objection is merged (hub position 6); Ganzhou reads one batch (4-5) of a
        // head that covers it.
        let record = key(nanchang, "CF-360100-2026-1")
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                              applicant: "赣江商贸有限公司", grounds: "记载有误", by: ganzhou.identity)
        while try await h.pusher(ganzhou).pushOnce() > 0 {}
        #expect(try await h.receiver(ganzhou).follow(batches: 1, wait: 0) == 2)
        #expect(try ganzhou.service.store.rightsState().pending == 1)

        // The hub is restored from the backup (5 changes) and takes three more of Nanchang's.
        let restored = try HubFixture(now: h.now, fanOutLimit: 2, path: backupPath)
        _ = try nanchang.service.submit(nanchang.punishments(5..<8), by: nanchang.identity)
        while try await restored.pusher(nanchang).pushOnce() > 0 {}
        #expect(try restored.store.hubHead().size == 8)

        // Ganzhou reads the restored hub's fan-out to its end (a hub history conflict, then from 0):
        // the objection is still pending, not refused.
        for _ in 0..<20 where try ganzhou.service.store.hubHistoryConflicts() == 0 || ganzhou.service.store.fanOutPosition() < 8 {
            _ = try await restored.receiver(ganzhou).pullOnce(wait: 0)
        }
        #expect(try ganzhou.service.store.hubHistoryConflicts() == 1)
        #expect(try ganzhou.service.store.fanOutPosition() == 8)
        var state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 1 && state.refused.isEmpty, "pending \(state.pending), refused \(state.refused)")

        // Ganzhou's next write meets a gap: its pusher re-feeds the restored hub (an idle pusher
        // finds it on its own within four quiet checks), and the objection comes back.
        _ = try ganzhou.service.submit(ganzhou.punishments(0..<1), by: ganzhou.identity)
        for _ in 0..<4 { _ = try await restored.pusher(ganzhou).pushOnce() }
        #expect(try restored.store.position(node: "360700")?.acknowledged == 2)
        // Read to the head (a batch of a node's own changes applies none, so count positions).
        let head = try restored.store.hubHead().size
        #expect(head == 10)
        for n in nodes {
            for _ in 0..<20 where try n.service.store.fanOutPosition() < head { _ = try await restored.receiver(n).pullOnce(wait: 0) }
        }
        state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 0 && state.refused.isEmpty, "pending \(state.pending), refused \(state.refused)")
        #expect(try restored.store.rightsCase("360700-1")?.rightsCase.kind == .objection)
        #expect(try nanchang.service.store.record(record)?.rights.labels == ["objection"])
        #expect(try ganzhou.service.store.record(record)?.rights.labels == ["objection"])
    }

    /// A hub restored from an older backup decides an objection the other way: re-fed after
    /// the record's revocation this time, the objection is refused (`revoked`). Every node had
    /// the case from the old hub's log; each drops it when it reads the restored hub's log from
    /// the start (a hub history conflict), and the city that filed it, whose objection the old
    /// hub had returned, holds it pending again as it starts that reading, then refused.
    @Test func anObjectionARestoredHubRefusesThisTimeLeavesEveryNode() async throws {
        let (dir, backupPath, h, nodes) = try await backedUpFederation("hub-restore-rights-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (nanchang, ganzhou) = (nodes[0], nodes[1])

        // The objection, then the record's revocation: every node holds the open case.
        let (record, filed) = try await objectionAtGanzhou(h, nodes)
        _ = try nanchang.service.revoke(item: record.item, recordId: record.recordId, reason: "原处罚决定被依法撤销",
                                        decisionDocument: "洪市监撤〔2026〕2号", effectiveAt: nil, by: nanchang.identity)
        try await sync(h, nodes)
        for n in nodes { #expect(try n.service.store.rightsState().cases.map(\.id) == [filed.caseId], "node \(n.service.node)") }

        // Restored, the hub is fed Nanchang's revocation first, then Ganzhou's objection, found
        // by each pusher's check of the hub's position.
        let restored = try HubFixture(now: h.now, path: backupPath)
        for n in nodes {
            try await restored.pusher(n).checkHubPosition()
            while try await restored.pusher(n).pushOnce() > 0 {}
        }
        #expect(try restored.store.refusals().map { "\($0.node)#\($0.sequence) \($0.code)" } == ["360700#1 revoked"])
        // Re-fed, the objection the node read back from the old hub's log stays as read until
        // the node finds that log is not the restored hub's.
        #expect(try ganzhou.service.store.rightsState().pending == 0)
        let head = try restored.store.hubHead().size
        for n in nodes {
            // Its pinned head is past the restored hub's log: it reads it again from the start.
            for _ in 0..<20 where try n.service.store.hubHistoryConflicts() == 0 || n.service.store.fanOutPosition() < head {
                _ = try await restored.receiver(n).pullOnce(wait: 0)
            }
            #expect(try n.service.store.fanOutPosition() == head, "node \(n.service.node)")
            #expect(try n.service.store.rightsState().cases.isEmpty, "node \(n.service.node) keeps a case the restored hub refused")
            #expect(try n.service.store.record(record)?.rights.labels == [], "node \(n.service.node)")
        }
        let state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 0 && state.refused == [1], "pending \(state.pending), refused \(state.refused)")
    }

    /// A hub restored from a backup that is fed again in the order it was fed before holds the
    /// same log: the objection is merged where the city that filed it already read it. That
    /// city's fan-out is past it and finds nothing amiss; the objection must stay as the hub
    /// decided it, not wait for an entry the node will not read again and end "refused" on the
    /// hub's position (simulator seed 30086).
    @Test func anObjectionARestoredHubMergesWhereTheNodeReadItStaysMerged() async throws {
        let (dir, backupPath, h, nodes) = try await backedUpFederation("hub-restore-rights-same-log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ganzhou = nodes[1]
        let (record, filed) = try await objectionAtGanzhou(h, nodes)
        let before = try h.store.hubHead()
        #expect(try ganzhou.service.store.rightsState().cases.map(\.id) == [filed.caseId])

        let restored = try HubFixture(now: h.now, path: backupPath)
        try await restored.pusher(ganzhou).checkHubPosition()
        while try await restored.pusher(ganzhou).pushOnce() > 0 {}
        #expect(try restored.store.hubHead() == before, "the same log, entry for entry")
        for _ in 0..<3 { _ = try await restored.receiver(ganzhou).pullOnce(wait: 0) }
        let state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 0 && state.refused.isEmpty, "pending \(state.pending), refused \(state.refused)")
        #expect(try state.cases.map(\.id) == [filed.caseId] && ganzhou.service.store.hubHistoryConflicts() == 0)
        #expect(try ganzhou.service.store.record(record)?.rights.labels == ["objection"])
    }

    /// A node restored from an older backup takes back from the hub the changes it pushed
    /// since, its rights changes with them. One the hub refused is pending again, and the
    /// fan-out read from the backup's position lists it as refused, as the node did before the
    /// restore; a taken-back change is not filed as neither (simulator seed 50100).
    @Test func aNodeRestoredFromABackupListsAgainTheObjectionTheHubRefused() async throws {
        let dir = try Fixtures.temporaryDirectory("node-restore-rights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ganzhou.sqlite").path, backup = dir.appendingPathComponent("backup.sqlite").path
        let h = try HubFixture()
        let nanchang = try NodeFixture(node: "360100", readScope: .all, now: h.clock.function)
        var ganzhou = try NodeFixture(node: "360700", path: path, readScope: .all, now: h.clock.function)
        try h.enroll("360100", key: nanchang.key)
        try h.enroll("360700", key: ganzhou.key)
        _ = try nanchang.service.submit(nanchang.punishments(0..<2), by: nanchang.identity)
        try await sync(h, [nanchang, ganzhou])
        try ganzhou.service.store.backup(to: backup)

        // Nanchang revokes the record; before Ganzhou hears of it, a subject objects there.
        let record = key(nanchang, "CF-360100-2026-1")
        _ = try nanchang.service.revoke(item: record.item, recordId: record.recordId, reason: "撤销", decisionDocument: "洪撤〔2026〕1号",
                                        effectiveAt: nil, by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        let filed = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                                      applicant: "赣江商贸有限公司", grounds: "记载有误", by: ganzhou.identity)
        try await sync(h, [nanchang, ganzhou])
        #expect(try h.store.refusals().map { "\($0.node)#\($0.sequence) \($0.code)" } == ["360700#\(filed.sequence) revoked"])
        #expect(try ganzhou.service.store.rightsState().refused == [filed.sequence])

        // The disk is lost; the backup, from before the objection, is restored and marked.
        try ganzhou.service.store.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        try NodeStore(path: path, role: .operator).setRestorePending(true)
        ganzhou = try NodeFixture(node: "360700", path: path, readScope: .all, now: h.clock.function)
        try await sync(h, [nanchang, ganzhou])
        #expect(try ganzhou.service.store.pushState().logSize == filed.sequence)
        let state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 0 && state.refused == [filed.sequence], "pending \(state.pending), refused \(state.refused)")
    }

    /// A re-assertion the restored hub no longer holds: the home applied it over its own newer
    /// correction, and the restored hub, not contesting the record, does not send the correction
    /// back. The home reads the new log from its start from its own last write, and ends on the
    /// hub's version (simulator seed 80076).
    @Test func aHomeOverwrittenByAReassertionARestoredHubForgotEndsOnItsOwnLastWrite() async throws {
        let (dir, _, h, nodes) = try await backedUpFederation("hub-restore-reassertion")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (nanchang, ganzhou) = (nodes[0], nodes[1])
        let record = key(nanchang, "CF-360100-2026-5")
        func variant(_ text: String) -> JSONValue {
            guard case var .object(o) = nanchang.punishments(5..<6)[0], case var .object(fields)? = o["fields"] else { return .null }
            fields["CF_NR"] = .string(text)
            o["fields"] = .object(fields)
            return .object(o)
        }
        // Nanchang's record reaches the hub, which is backed up then.
        _ = try nanchang.service.submit([variant("罚款2000元")], by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        let backupPath = dir.appendingPathComponent("backup-after-create.sqlite").path
        _ = try StoreBackup.backup(from: dir.appendingPathComponent("hub.sqlite").path, to: backupPath)
        // Ganzhou, not yet told, writes another version for the same unit: refused, and the hub
        // re-asserts Nanchang's. Nanchang has meanwhile corrected the record, not yet pushed,
        // and the re-assertion it reads puts the older version back over its correction.
        let unit = try UnifiedSocialCreditCode.parse(nanchang.identity.unit)
        let (_, token) = try ganzhou.service.store.addCredential(name: "同一单位", unit: unit, writeItems: nil, readScope: .all, at: h.now)
        _ = try ganzhou.service.submit([variant("罚款1元")], by: try #require(try ganzhou.service.store.authenticate(token: token)))
        while try await h.pusher(ganzhou).pushOnce() > 0 {}
        _ = try nanchang.service.correct(item: record.item, recordId: record.recordId, record: variant("罚款5000元"), reason: "复议变更",
                                         decisionDocument: "洪复决〔2026〕7号", effectiveAt: nil, by: nanchang.identity)
        while try await h.receiver(nanchang).pullOnce(wait: 0) > 0 {}
        _ = try await h.receiver(nanchang).pullOnce(wait: 0)
        #expect(try nanchang.service.store.record(record)?.history.last?.hubPosition != nil, "the re-assertion is current")

        // The hub is restored from before the refusal; Nanchang's correction is merged there, unmarked.
        let restored = try HubFixture(now: h.now, path: backupPath)
        while try await restored.pusher(nanchang).pushOnce() > 0 {}
        for _ in 0..<4 { _ = try await restored.receiver(nanchang).pullOnce(wait: 0) }
        #expect(try nanchang.service.store.hubHistoryConflicts() == 1)
        #expect(try nanchang.service.store.stateDigest() == restored.store.stateDigest(), "the home holds what the hub holds")
        let mine = try #require(try nanchang.service.store.record(record))
        #expect(mine.record.objectValue?["fields"]?.objectValue?["CF_NR"] == .string("罚款5000元"))
    }

    /// The same loss when the node had not pinned past the backup, so that its fan-out sees
    /// nothing amiss (no conflict, no shorter log): the node still takes nothing for refused
    /// while the restored hub does not hold its objection. Another city's desk then files the
    /// same application at the restored hub first; re-fed, the objection is refused there, and
    /// the node learns it from the fan-out it reads after the hub's position says it holds it.
    @Test func aLostObjectionIsRefusedOnlyOnTheWordOfTheHubThatHoldsIt() async throws {
        let (dir, backupPath, h, nodes) = try await backedUpFederation("hub-restore-unseen")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (nanchang, ganzhou) = (nodes[0], nodes[1])

        let record = key(nanchang, "CF-360100-2026-1")
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                              applicant: "赣江商贸有限公司", grounds: "记载有误", by: ganzhou.identity)
        while try await h.pusher(ganzhou).pushOnce() > 0 {}
        #expect(try h.store.hubHead().size == 4)

        // Restored to 3 entries, the head Ganzhou pinned; two more of Nanchang's records merge.
        let restored = try HubFixture(now: h.now, path: backupPath)
        _ = try nanchang.service.submit(nanchang.punishments(3..<5), by: nanchang.identity)
        while try await restored.pusher(nanchang).pushOnce() > 0 {}
        for _ in 0..<5 where try ganzhou.service.store.fanOutPosition() < 5 { _ = try await restored.receiver(ganzhou).pullOnce(wait: 0) }
        #expect(try ganzhou.service.store.fanOutPosition() == 5)
        #expect(try ganzhou.service.store.hubHistoryConflicts() == 0)
        var state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 1 && state.refused.isEmpty, "pending \(state.pending), refused \(state.refused)")

        // Nanchang's desk files the same application at the restored hub; Ganzhou's next write
        // meets a gap, and its pusher re-feeds the objection, which the hub now refuses.
        _ = try nanchang.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                               applicant: "赣江商贸有限公司", grounds: "记载有误", by: nanchang.identity)
        while try await restored.pusher(nanchang).pushOnce() > 0 {}
        _ = try ganzhou.service.submit(ganzhou.punishments(0..<1), by: ganzhou.identity)
        for _ in 0..<4 { _ = try await restored.pusher(ganzhou).pushOnce() }
        #expect(try restored.store.position(node: "360700")?.acknowledged == 2)
        #expect(try restored.store.refusals().map(\.code) == ["duplicate-application"])
        let head = try restored.store.hubHead().size
        for n in nodes {
            for _ in 0..<10 where try n.service.store.fanOutPosition() < head { _ = try await restored.receiver(n).pullOnce(wait: 0) }
        }
        state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 0 && state.refused == [1], "pending \(state.pending), refused \(state.refused)")
        for n in nodes {
            let rights = try #require(try n.service.store.record(record)).rights
            #expect(rights.cases.count == 1 && rights.cases.allSatisfy { $0.id.hasPrefix("360100-") } && rights.labels == ["objection"],
                    "node \(n.service.node): \(rights.cases.map(\.id))")
        }
    }

    /// A hub whose position cannot be read (an error on the way, an unsigned answer) settles
    /// no pending rights change, and stops nothing else: the fan-out is read all the same, and
    /// the objection that comes back in it is no longer pending.
    @Test func anUnreadableHubPositionHoldsUpNoFanOut() async throws {
        final class NoPosition: ForwardingTransport, @unchecked Sendable {
            override func position(node: String) async throws(TransportError) -> HubPosition { throw .unreachable("position lost") }
        }
        let (h, nodes) = try await threeCities(records: 2)
        let (nanchang, ganzhou) = (nodes[0], nodes[1])
        let record = key(nanchang, "CF-360100-2026-1")
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                              applicant: "赣江商贸有限公司", grounds: "记载有误", by: ganzhou.identity)
        while try await h.pusher(ganzhou).pushOnce() > 0 {}
        _ = try nanchang.service.submit(nanchang.punishments(2..<4), by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        #expect(try ganzhou.service.store.fanOutState().rightsAwaitingTheHub)
        let changed = try await h.receiver(ganzhou, transport: NoPosition(h.transport)).pullOnce(wait: 0)
        #expect(changed == 3)
        #expect(try ganzhou.service.store.fanOutPosition() == h.store.hubHead().size)
        let state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 0 && state.refused.isEmpty, "pending \(state.pending), refused \(state.refused)")
    }

    /// rights.md §4: a node settles a pending rights change as refused only on a hub position
    /// whose size and root match its own log. A position naming another root (a hub holding
    /// another history of this node) settles nothing; the true one settles it.
    @Test func aHubPositionOnAnotherLogSettlesNoPendingRightsChange() async throws {
        final class ForeignRoot: ForwardingTransport, @unchecked Sendable {
            override func position(node: String) async throws(TransportError) -> HubPosition {
                HubPosition(acknowledged: try await super.position(node: node).acknowledged, treeRoot: String(repeating: "0", count: 64))
            }
        }
        let (h, nodes) = try await threeCities(records: 2)
        let (nanchang, ganzhou) = (nodes[0], nodes[1])
        let record = key(nanchang, "CF-360100-2026-1")
        // Nanchang revokes the record; before Ganzhou hears of it, a subject objects there.
        _ = try nanchang.service.revoke(item: record.item, recordId: record.recordId, reason: "撤销", decisionDocument: "洪撤〔2026〕1号",
                                        effectiveAt: nil, by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                              applicant: "赣江商贸有限公司", grounds: "记载有误", by: ganzhou.identity)
        while try await h.pusher(ganzhou).pushOnce() > 0 {}
        #expect(try h.store.refusals().first?.code == "revoked")

        _ = try await h.receiver(ganzhou, transport: ForeignRoot(h.transport)).pullOnce(wait: 0)
        var state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 1 && state.refused.isEmpty, "pending \(state.pending), refused \(state.refused)")
        while try await h.receiver(ganzhou).pullOnce(wait: 0) > 0 {}
        _ = try await h.receiver(ganzhou).pullOnce(wait: 0)
        state = try ganzhou.service.store.rightsState()
        #expect(state.pending == 0 && state.refused.count == 1, "pending \(state.pending), refused \(state.refused)")
    }

    /// rights.md §4: a node applies every rights entry whether or not it holds the record; one
    /// that does not keeps the case, and the record that reaches it later carries its label.
    @Test func aNodeWithoutTheRecordKeepsItsCaseUntilTheRecordArrives() async throws {
        let (_, nodes) = try await threeCities(records: 2)
        let (nanchang, ganzhou) = (nodes[0], nodes[1])
        let record = key(nanchang, "CF-360100-2026-1")
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                              applicant: "赣江商贸有限公司", grounds: "记载有误", by: ganzhou.identity)
        // The filing and the record's creation, as Ganzhou's and Nanchang's logs hold them.
        let filing = try Change(decoding: try #require(try ganzhou.service.store.changes(after: 0, limit: 100, maxBytes: .max).last))
        let creation = try #require(try nanchang.service.store.changes(after: 0, limit: 100, maxBytes: .max).map { try Change(decoding: $0) }
            .first { $0.key.recordId == record.recordId })
        let late = try NodeFixture(node: "361100", readScope: .all)
        func write(_ change: Change, at position: UInt64) throws -> RemoteWrite {
            RemoteWrite(position: position, change: change, prepared: Receiver.prepare(change, data: Fixtures.reference),
                        rights: change.operation.isRights ? try RightsEvent(change, identifiers: nil) : nil,
                        leaf: change.operation.isRights ? change.leafHash : nil)
        }
        let head = TreeHead(size: 2, root: MerkleHash.leaf([0]))
        _ = try late.service.store.applyFanOut([try write(filing, at: 1)], through: 1, hubHead: head, at: 0)
        let kept = try #require(try late.service.store.rightsCase("360700-1"), "the case is kept without the record")
        #expect(kept.rightsCase.kind == .objection)
        #expect(try late.service.store.record(record) == nil)
        _ = try late.service.store.applyFanOut([try write(creation, at: 2)], through: 2, hubHead: head, at: 0)
        #expect(try late.service.store.record(record)?.rights.labels == ["objection"])
    }

    @Test func anObjectionFiledAtOneCityIsLabelledEverywhereHandledAtTheHomeAndClosedEverywhere() async throws {
        let (h, nodes) = try await threeCities(records: 10)
        let (nanchang, ganzhou, yichun) = (nodes[0], nodes[1], nodes[2])
        let record = key(nanchang, "CF-360100-2026-3")

        // A subject files at Ganzhou's desk against a Nanchang record: pending until the hub decides.
        let filed = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                                      applicant: "赣江商贸有限公司", grounds: "  处罚金额记载有误  ", by: ganzhou.identity)
        #expect(filed.caseId == "360700-1" && filed.status == "pending")
        let before = try #require(try ganzhou.service.store.record(record)).rights
        #expect(before.labels.isEmpty && before.pending.map(\.event) == ["filed"])
        // The same applicant again is refused at the desk; so is a record nobody holds.
        #expect(refusal { try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                                            applicant: "赣江商贸有限公司", grounds: "again", by: ganzhou.identity) }?.code == "duplicate-application")
        let unknown = refusal { try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: "nope",
                                                                  applicant: "x", grounds: "y", by: ganzhou.identity) }
        #expect(unknown?.code == "unknown-record" && unknown?.status == .notFound)
        #expect(refusal { try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId,
                                                            applicant: "", grounds: "y", by: ganzhou.identity) }?.errors?.first?.field == "applicant")

        try await sync(h, nodes)
        for n in nodes {
            let rights = try #require(try n.service.store.record(record)).rights
            #expect(rights.labels == ["objection"], "node \(n.service.node)")
            #expect(rights.pending.isEmpty && rights.cases.map(\.id) == ["360700-1"])
            #expect(rights.cases.first?.steps.first?.detail == "处罚金额记载有误")
        }
        var windows = try h.hub.snapshot(windows: .all).rights
        #expect(windows.first { $0.name == .objectionLabel }?.state == .met)
        #expect(windows.first { $0.name == .objectionHandling }?.state == .onTime)

        // Only the providing unit handles it, at the record's home.
        let notHome = refusal { try ganzhou.service.caseEvent("360700-1", event: "paused", cause: "testing", by: ganzhou.identity) }
        #expect(notHome?.status == .forbidden)
        #expect(notHome?.message.contains("may pause the case on its record") == true, "\(String(describing: notHome))")
        #expect(refusal { try nanchang.service.caseEvent("360700-1", event: "paused", cause: "lunch", by: nanchang.identity) }?.code == "invalid-rights")
        // An expert review from Friday to Monday stops the clock for Monday (Article 39 ¶3).
        _ = try nanchang.service.caseEvent("360700-1", event: "paused", cause: "expert-review", by: nanchang.identity)
        try await sync(h, nodes)
        #expect(try h.hub.snapshot(windows: .all).rights.first { $0.name == .objectionHandling }?.state == .paused)
        #expect(refusal { try nanchang.service.caseEvent("360700-1", event: "upheld", reason: "x", by: nanchang.identity) }?.code == "case-state")
        h.clock.advance(by: 3 * 86_400)
        _ = try nanchang.service.caseEvent("360700-1", event: "resumed", by: nanchang.identity)
        // Other units must check: the 7-day path, and Yichun's regulator answers within 3.
        _ = try nanchang.service.caseEvent("360700-1", event: "checks", units: [yichun.identity.unit], by: nanchang.identity)
        try await sync(h, nodes)
        windows = try h.hub.snapshot(windows: .all).rights
        let handling = try #require(windows.first { $0.name == .objectionHandling })
        #expect(handling.window.deadline.due == CivilDate(year: 2026, month: 12, day: 2)!, "7 working days after 20 November, plus Monday's pause")
        #expect(windows.first { $0.name == .objectionCheck }?.unit == yichun.identity.unit)
        // The unit asked to check reads the case with a credential that reads only its own
        // records; a unit with no part in it does not (the case names applicant and grounds).
        func ownReader(_ unit: String) throws -> ProviderIdentity {
            let made = try yichun.service.store.addCredential(name: unit, unit: try UnifiedSocialCreditCode.parse(unit), writeItems: nil,
                                                               readScope: .own, at: h.now)
            return try #require(try yichun.service.store.authenticate(token: made.token))
        }
        #expect(try yichun.service.rightsCase("360700-1", by: ownReader(yichun.identity.unit)).rightsCase.id == "360700-1")
        #expect(refusal { _ = try yichun.service.rightsCase("360700-1", by: ownReader("113608000090000235")) }?.status == .forbidden)
        #expect(refusal { try ganzhou.service.caseEvent("360700-1", event: "checked", finding: "无", by: ganzhou.identity) }?.code == "not-checker")
        _ = try yichun.service.caseEvent("360700-1", event: "checked", finding: "我局核查：金额应为2000元", by: yichun.identity)
        try await sync(h, nodes)

        // Upheld: the unit corrects the record (Article 41) and closes the objection; not before.
        #expect(refusal { try nanchang.service.caseEvent("360700-1", event: "upheld", reason: "成立", by: nanchang.identity) }?.code == "correction-required")
        var corrected = nanchang.punishments(3..<4)[0]
        if case var .object(o) = corrected, case var .object(fields)? = o["fields"] {
            fields["CF_NR"] = .string("罚款2000元")
            o["fields"] = .object(fields)
            corrected = .object(o)
        }
        _ = try nanchang.service.correct(item: record.item, recordId: record.recordId, record: corrected, reason: "异议成立，更正处罚内容",
                                         decisionDocument: "洪市监更〔2026〕1号", effectiveAt: nil, by: nanchang.identity)
        #expect(refusal { try nanchang.service.caseEvent("360700-1", event: "upheld", by: nanchang.identity) }?.errors?.first?.field == "reason")
        _ = try nanchang.service.caseEvent("360700-1", event: "upheld", reason: "异议成立，已更正", by: nanchang.identity)
        try await sync(h, nodes)
        for n in nodes {
            let rights = try #require(try n.service.store.record(record)).rights
            #expect(rights.labels.isEmpty && rights.cases.first?.state == .upheld, "node \(n.service.node)")
            #expect(rights.cases.first?.steps.map(\.event) == [.filed, .paused, .resumed, .checks, .checked, .upheld])
        }
        #expect(refusal { try nanchang.service.caseEvent("360700-1", event: "rejected", reason: "x", by: nanchang.identity) }?.code == "case-closed")
        windows = try h.hub.snapshot(windows: .all).rights
        #expect(windows.map(\.state).allSatisfy { $0 == .met }, "\(windows.map { "\($0.name) \($0.state)" })")
        #expect(try h.store.refusals().isEmpty)
        // The records themselves converged as before.
        let digest = try h.store.stateDigest()
        for n in nodes { #expect(try n.service.store.stateDigest() == digest) }
    }

    @Test func restorationAndListRemovalWithdrawTheDisplayEverywhereAndBadApplicationsChangeNothing() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700", "360900"])
        let (nanchang, ganzhou, yichun) = (nodes[0], nodes[1], nodes[2])
        var g = nanchang.generator
        let permit = NodeFixture.json(g.permit(1, grantedOn: CivilDate(year: 2026, month: 3, day: 1)!))
        let results = try nanchang.service.submit(nanchang.punishments(0..<3) + [listEntry(), permit], by: nanchang.identity)
        #expect(results.allSatisfy { $0.status == .accepted }, "\(results)")
        try await sync(h, nodes)
        let general = key(nanchang, "CF-360100-2026-1"), serious = key(nanchang, "CF-360100-2026-0")
        let listed = key(nanchang, "l1", item: "serious-untrustworthy-list")

        let applied = try yichun.service.applyForRestoration(provider: general.provider, item: general.item, recordId: general.recordId,
                                                            applicant: "公司", statement: "已缴纳罚款并整改完毕", by: yichun.identity)
        func code(_ k: RecordKey) -> String? {
            refusal { try yichun.service.applyForRestoration(provider: k.provider, item: k.item, recordId: k.recordId, applicant: "公司",
                                                             statement: "已整改", by: yichun.identity) }?.code
        }
        #expect(code(serious) == "too-early", "a serious punishment of 1 June is displayed a year at least")
        #expect(code(general) == "duplicate-application")
        #expect(code(key(nanchang, String(try #require(permit.objectValue?["recordId"]?.stringValue)), item: "administrative-permit")) == "not-restorable")
        let hubLog = try h.store.hubHead().size
        try await sync(h, nodes)
        #expect(try h.store.hubHead().size == hubLog + 1, "only the valid application reached the hub")

        #expect(refusal { try ganzhou.service.caseEvent(applied.caseId, event: "granted", reason: "x", by: ganzhou.identity) }?.status == .forbidden)
        _ = try nanchang.service.caseEvent(applied.caseId, event: "granted", reason: "符合信用修复条件", by: nanchang.identity)
        try await sync(h, nodes)
        for n in nodes {
            let rights = try #require(try n.service.store.record(general)).rights
            #expect(rights.display == "withdrawn" && rights.cases.first?.state == .granted, "node \(n.service.node)")
            #expect(try n.service.store.record(general)?.status == "active", "restored, not revoked: the history stays (Article 38)")
        }
        #expect(code(general) == "already-restored")
        #expect(try h.hub.snapshot(windows: .all).rights.first { $0.name == .restoration }?.state == .met)

        // Article 34: only the designating unit removes, only what is listed, once.
        #expect(refusal { try nanchang.service.removeFromList(item: general.item, recordId: general.recordId, reason: "x",
                                                              decisionDocument: "y", by: nanchang.identity) }?.code == "not-listed")
        #expect(refusal { try nanchang.service.removeFromList(item: listed.item, recordId: listed.recordId, reason: "已履行",
                                                              decisionDocument: "", by: nanchang.identity) }?.errors?.first?.field == "decisionDocument")
        _ = try nanchang.service.removeFromList(item: listed.item, recordId: listed.recordId, reason: "已履行义务、完成信用修复",
                                                decisionDocument: "洪市监移〔2026〕1号", by: nanchang.identity)
        #expect(refusal { try nanchang.service.removeFromList(item: listed.item, recordId: listed.recordId, reason: "again",
                                                              decisionDocument: "again", by: nanchang.identity) }?.code == "already-removed")
        try await sync(h, nodes)
        for n in nodes { #expect(try n.service.store.record(listed)?.rights.display == "withdrawn", "node \(n.service.node)") }
        let subjectList = try ganzhou.service.store.records(subject: "uscc:91110000600037341L")
        #expect(subjectList.first { $0.recordId == "l1" }?.display == "withdrawn")
        // The fan-out filed the Article 33 person at the receiving node too, under their own key.
        let person = try ganzhou.service.store.records(subject: "resident-id:360102198001010056")
        #expect(person.map { "\($0.recordId) \($0.role)" } == ["l1 legal-representative"])
        #expect(try h.store.refusals().isEmpty)
    }

    @Test func twoDesksRacingWithTheSameApplicationEndOnTheHubsOneCase() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700", "360900"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<3), by: nodes[0].identity)
        try await sync(h, nodes)
        let record = key(nodes[0], "CF-360100-2026-2")
        for n in nodes[1...] {
            _ = try n.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId, applicant: "同一申请人",
                                            grounds: "重复提交", by: n.identity)
        }
        try await sync(h, nodes)
        let refused = try h.store.refusals()
        #expect(refused.map(\.code) == ["duplicate-application"])
        for n in nodes {
            let rights = try #require(try n.service.store.record(record)).rights
            #expect(rights.cases.count == 1 && rights.labels == ["objection"], "node \(n.service.node)")
            #expect(rights.pending.isEmpty, "node \(n.service.node) still shows a change the hub decided on as pending")
        }
        // The losing desk learns from the fan-out that its application was refused.
        let loser = try #require(nodes.first { try $0.service.store.record(record)?.rights.cases.first?.id.hasPrefix($0.service.node) == false && $0.service.node != "360100" })
        #expect(try loser.service.store.record(record)?.rights.refused.map(\.event) == ["filed"])
        #expect(try nodes[0].service.store.record(record)?.rights.refused.isEmpty == true)
    }

    /// A case closed long ago whose label reaches the last node only now, after an absence of
    /// more than the operators' views look back: the missed label is listed from when it closed.
    @Test func aLabelAppliedAfterALongAbsenceIsListedFromWhenItClosed() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700"], sharedClock: true)
        let (nanchang, ganzhou) = (nodes[0], nodes[1])
        _ = try nanchang.service.submit(nanchang.punishments(0..<2), by: nanchang.identity)
        try await sync(h, nodes)
        let record = key(nanchang, "CF-360100-2026-1")
        _ = try ganzhou.service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId, applicant: "甲",
                                              grounds: "乙", by: ganzhou.identity)
        while try await h.pusher(ganzhou).pushOnce() > 0 {}
        // The home decides it; Ganzhou, gone, applies nothing for longer than the views look back.
        _ = try await h.receiver(nanchang).pullOnce(wait: 0)
        _ = try nanchang.service.caseEvent("360700-1", event: "rejected", reason: "经核查记载无误", by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        _ = try await h.receiver(nanchang).pullOnce(wait: 0)
        h.clock.advance(by: Double(HubService.snapshotDays + 10) * 86_400)
        #expect(try h.hub.snapshot().rights.first { $0.name == .objectionLabel }?.state == .breached)
        _ = try await h.receiver(ganzhou).pullOnce(wait: 0)
        let after = try h.hub.snapshot()
        #expect(after.rights.first { $0.name == .objectionLabel }?.state == .missed, "\(after.rights.map { "\($0.name) \($0.state)" })")
        #expect(after.windowCounts["objection-label/missed"] == 1 && after.recentlyMissed == 1)
    }

    @Test func aLabelNoNodeAppliedIsBreachedAfterOneWorkingDayAndAlerted() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700"], sharedClock: true)
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<2), by: nodes[0].identity)
        try await sync(h, nodes)
        let record = key(nodes[0], "CF-360100-2026-1")
        _ = try nodes[1].service.fileObjection(provider: record.provider, item: record.item, recordId: record.recordId, applicant: "甲",
                                               grounds: "乙", by: nodes[1].identity)
        while try await h.pusher(nodes[1]).pushOnce() > 0 {}
        // Friday 10:00 → the label is due by the end of Monday; Tuesday nobody has applied it.
        h.clock.advance(by: 4 * 86_400)
        let snapshot = try h.hub.snapshot()
        #expect(snapshot.rights.first { $0.name == .objectionLabel }?.state == .breached)
        #expect(snapshot.windowsNeedAttention)
        #expect(try h.hub.metricsExposition().contains(#"creditsync_hub_rights_windows{window="objection-label",state="breached"} 1"#))
        // Operators see it in the status table, on the dashboard and in the auditor's report.
        // They are told which nodes hold it up, as for a correction's copies, and the rights
        // windows are counted apart from Article 41's.
        #expect(snapshot.rights.first { $0.name == .objectionLabel }?.waitingFor == ["360100", "360700"])
        #expect(StatusTable.render(snapshot).contains("case 360700-1 objection-label: due 2026-11-23 breached (\(record)); not yet at 360100 360700"))
        try await Application(router: OperatorAPI.router(service: h.hub)).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("<td>360700-1</td>") && page.contains("breached</td><td>360100 node 360100, 360700 node 360700</td></tr>"), "\(page)")
                #expect(page.contains("<h2>Corrections (Article 41)</h2>\n<p>none yet</p>") && page.contains("objection-label/breached: 1"), "\(page)")
            }
        }
        try await sync(h, nodes)
        #expect(try h.hub.snapshot(windows: .all).rights.first { $0.name == .objectionLabel }?.state == .missed)
        let report = try h.hub.rightsComplianceReport(from: h.now.addingTimeInterval(-7 * 86_400), to: h.now)
        #expect(report.contains("360700-1,objection,") && report.contains(",objection-label,,") && report.contains(",missed,"))
        #expect(report.split(separator: "\r\n").count == 3, "a header, the label window and the handling window")
    }
}
