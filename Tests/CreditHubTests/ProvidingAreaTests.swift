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
        // Ganzhou's own regulator is merged as always.
        _ = try ganzhou.service.submit(ganzhou.punishments(0..<1), by: ganzhou.identity)
        _ = try await h.pusher(ganzhou).pushOnce()
        #expect(try h.store.hubHead().size == 4)
        // Widened by the operator (and logged), Ganzhou's node may write for Nanchang's units.
        #expect(try h.store.changeArea(node: "360700", add: ["3601"], remove: [], at: h.now).covers(unit))
        #expect(try h.store.adminActions(after: 0).last?.action == "node-area")
        _ = try ganzhou.service.submit(nanchang.punishments(10..<11), by: intruder)
        _ = try await h.pusher(ganzhou).pushOnce()
        #expect(try h.store.hubHead().size == 5)
        #expect(try h.store.refusals().count == 3)
        #expect(throws: (any Error).self) { try h.store.changeArea(node: "360700", add: ["3x"], remove: [], at: h.now) }
    }
}
