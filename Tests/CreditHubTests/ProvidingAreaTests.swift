import CreditCore
import CreditData
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import Testing

/// Protocol/merge.md §1: a node's key vouches for the node, and its area says for whose records.
@Suite struct ProvidingAreaTests {
    @Test func aNodeCoversItsDivisionAndACityItsCounties() throws {
        let nanchang = ProvidingArea(node: "360100"), county = ProvidingArea(node: "360102")
        #expect(nanchang.covers(division: "360100") && nanchang.covers(division: "360102") && nanchang.covers(division: "360121"))
        #expect(!nanchang.covers(division: "360700") && !nanchang.covers(division: "360000") && !nanchang.covers(division: "110100"))
        #expect(county.covers(division: "360102") && !county.covers(division: "360100") && !county.covers(division: "360103"))
        // The province's code is no city: a node 360000 would not cover every division.
        #expect(!ProvidingArea(node: "360000").covers(division: "360100"))
        let widened = ProvidingArea(node: "360100", extra: ["3600"])
        #expect(widened.covers(division: "360000") && !widened.covers(division: "360700"))
        #expect(widened.covers(try UnifiedSocialCreditCode.parse(SyntheticRecords(division: "360000").regulatorCode)))
        #expect(widened.description == "360100 and its counties (3601xx), and 3600…")
        #expect(ProvidingArea.isValidPrefix("36") && ProvidingArea.isValidPrefix("360102"))
        #expect(!ProvidingArea.isValidPrefix("3") && !ProvidingArea.isValidPrefix("3601001") && !ProvidingArea.isValidPrefix("36a1"))
    }

    /// Ganzhou's node creating records of a Nanchang unit — records Nanchang's node had not
    /// pushed yet, which would have made Ganzhou their home for good — is refused, and nothing
    /// is merged or spread, until the operator widens its area.
    @Test func theHubRefusesRecordsOfUnitsOutsideTheNodesArea() async throws {
        let h = try HubFixture()
        let nanchang = try NodeFixture(node: "360100", readScope: .all)
        let ganzhou = try NodeFixture(node: "360700", readScope: .all)
        try h.enroll("360100", key: nanchang.key, areas: [])
        try h.enroll("360700", key: ganzhou.key, areas: [])
        // A credential at Ganzhou for Nanchang's regulator, made past the CLI's check.
        let unit = try UnifiedSocialCreditCode.parse(nanchang.generator.regulatorCode)
        let (_, token) = try ganzhou.service.store.addCredential(name: "南昌市市场监督管理局", unit: unit, writeItems: nil, readScope: .all, at: NodeFixture.now)
        let intruder = try #require(try ganzhou.service.store.authenticate(token: token))
        _ = try ganzhou.service.submit(nanchang.punishments(0..<3), by: intruder)
        _ = try await h.pusher(ganzhou).pushOnce()
        let refusals = try h.store.refusals()
        #expect(refusals.map(\.code) == ["not-in-area", "not-in-area", "not-in-area"])
        #expect(refusals.first?.field == "provider")
        #expect(refusals.first?.message.contains("outside the area of node 360700: 360700 and its counties (3607xx)") == true, "\(refusals)")
        #expect(try h.store.hubHead().size == 0)
        // Nanchang's node writes them: they are its unit's; it is their home, not Ganzhou.
        _ = try nanchang.service.submit(nanchang.punishments(0..<3), by: nanchang.identity)
        _ = try await h.pusher(nanchang).pushOnce()
        #expect(try h.store.hubHead().size == 3)
        // A correction and a revocation of them from Ganzhou's node are refused for the area too
        // (merge.md §1: operations 1–3), before the hub asks whose record it is.
        let item = "administrative-punishment"
        guard case var .object(corrected) = nanchang.punishments(0..<1)[0], case var .object(fields)? = corrected["fields"] else { return }
        fields["CF_NR"] = .string("罚款1元")
        corrected["fields"] = .object(fields)
        _ = try ganzhou.service.correct(item: item, recordId: "CF-360100-2026-0", record: .object(corrected),
                                        reason: "更正", decisionDocument: "赣更〔2026〕1号", effectiveAt: nil, by: intruder)
        _ = try ganzhou.service.revoke(item: item, recordId: "CF-360100-2026-1", reason: "撤销", decisionDocument: "赣撤〔2026〕1号",
                                       effectiveAt: nil, by: intruder)
        _ = try await h.pusher(ganzhou).pushOnce()
        #expect(try h.store.refusals().prefix(2).map { "\($0.recordKey.split(separator: "/").last!) \($0.code) \($0.field)" }
                == ["CF-360100-2026-1 not-in-area provider", "CF-360100-2026-0 not-in-area provider"])
        // Nothing of theirs is merged: the hub re-asserts Nanchang's two versions (merge.md §4),
        // which bring Ganzhou's node back to them.
        #expect(try h.store.hubLog(after: 3).map { "\($0.node) \($0.reassert)" } == ["360100 true", "360100 true"])
        // Ganzhou's own regulator is merged as always.
        _ = try ganzhou.service.submit(ganzhou.punishments(0..<1), by: ganzhou.identity)
        _ = try await h.pusher(ganzhou).pushOnce()
        #expect(try h.store.hubHead().size == 6)
        // Widened by the operator (and logged), Ganzhou's node may write for Nanchang's units.
        #expect(try h.store.changeArea(node: "360700", add: ["3601"], remove: [], at: h.now).covers(unit))
        #expect(try h.store.adminActions(after: 0).last?.action == "node-area")
        _ = try ganzhou.service.submit(nanchang.punishments(10..<11), by: intruder)
        _ = try await h.pusher(ganzhou).pushOnce()
        #expect(try h.store.hubHead().size == 7)
        #expect(try h.store.refusals().count == 5)
        #expect(throws: (any Error).self) { try h.store.changeArea(node: "360700", add: ["3x"], remove: [], at: h.now) }
    }

    /// rights.md §2: a unit answers a check through a node of its area. Nanchang's node, with a
    /// credential for Ganzhou's regulator made past the CLI's check, cannot close that unit's
    /// window with a finding of its own; Ganzhou's node answers for it.
    @Test func theHubRefusesACheckAnsweredOutsideTheNodesArea() async throws {
        let h = try HubFixture()
        let nanchang = try NodeFixture(node: "360100", readScope: .all)
        let ganzhou = try NodeFixture(node: "360700", readScope: .all)
        try h.enroll("360100", key: nanchang.key, areas: [])
        try h.enroll("360700", key: ganzhou.key, areas: [])
        func sync() async throws {
            for n in [nanchang, ganzhou] { while try await h.pusher(n).pushOnce() > 0 {} }
            for n in [nanchang, ganzhou] { while try await h.receiver(n).pullOnce(wait: 0) > 0 {} }
        }
        _ = try nanchang.service.submit(nanchang.punishments(0..<1), by: nanchang.identity)
        let opened = try nanchang.service.fileObjection(provider: nanchang.identity.unit, item: "administrative-punishment",
                                                        recordId: "CF-360100-2026-0", applicant: "某公司", grounds: "金额有误", by: nanchang.identity)
        _ = try nanchang.service.caseEvent(opened.caseId, event: "checks", units: [ganzhou.identity.unit], by: nanchang.identity)
        try await sync()
        let unit = try UnifiedSocialCreditCode.parse(ganzhou.identity.unit)
        let (_, token) = try nanchang.service.store.addCredential(name: "赣州市市场监督管理局", unit: unit, writeItems: nil, readScope: .all, at: NodeFixture.now)
        let impostor = try #require(try nanchang.service.store.authenticate(token: token))
        _ = try nanchang.service.caseEvent(opened.caseId, event: "checked", finding: "经核查无误", by: impostor)
        let head = try h.store.hubHead()
        try await sync()
        let refusal = try #require(try h.store.refusals().last)
        #expect(refusal.code == "not-in-area" && refusal.field == "payload.unit", "\(refusal)")
        #expect(try h.store.hubHead() == head, "nothing merged")
        _ = try ganzhou.service.caseEvent(opened.caseId, event: "checked", finding: "经核查无误", by: ganzhou.identity)
        try await sync()
        #expect(try h.store.hubHead().size == head.size + 1, "the unit's own node answers for it")
    }
}
