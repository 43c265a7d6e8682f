@testable import CreditHub
import CreditNode
import CreditTesting
import Foundation
import Testing

/// The hub keeps each node's count of waiting changes and moves it by the rows since it last
/// counted (``HubStore/lags(now:)``): it must always equal a count made from nothing.
@Suite struct LagCountTests {
    /// The waiting counts as kept, after checking them against counts made afresh.
    func lags(_ h: HubFixture) throws -> [String: Int] {
        let kept = try h.store.lags(now: h.now)
        h.store.pendingCounts.withLock { $0 = [:] }
        let fresh = try h.store.lags(now: h.now)
        #expect(kept == fresh)
        return Dictionary(uniqueKeysWithValues: kept.map { ($0.id, $0.lagChanges) })
    }

    @Test func aKeptCountFollowsAppendsAcknowledgementsAndSubscriptions() async throws {
        let (h, nodes) = try HubFixture.federation(["360100", "360700", "360900"])
        let (nanchang, yichun) = (nodes[0], nodes[2])
        _ = try nanchang.service.submit(nanchang.punishments(0..<30), by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        #expect(try lags(h) == ["360100": 0, "360700": 30, "360900": 30])
        // Read again with nothing new: the kept count stands.
        #expect(try lags(h) == ["360100": 0, "360700": 30, "360900": 30])
        _ = try await h.receiver(yichun).pullOnce(wait: 0)
        #expect(try lags(h)["360900"] == 0)
        // A narrowed subscription counts afresh: new punishment records no longer go to Ganzhou.
        try h.store.subscribe(node: "360700", to: NodeSubscription(items: ["administrative-permit"]))
        #expect(try lags(h)["360700"] == 0)
        _ = try nanchang.service.submit(nanchang.punishments(30..<50), by: nanchang.identity)
        _ = try nanchang.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-3", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕5号", effectiveAt: h.now, by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        #expect(try lags(h) == ["360100": 0, "360700": 1, "360900": 21])
        // The kept count moves by what was applied and what was merged since, both at once.
        _ = try await h.receiver(yichun).pullOnce(wait: 0)
        _ = try nanchang.service.submit(nanchang.punishments(50..<55), by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        let kept = try h.store.lags(now: h.now).first { $0.id == "360900" }?.lagChanges
        #expect(kept == 5)
        #expect(try lags(h)["360900"] == 5)
    }
}
