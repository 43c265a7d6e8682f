import CreditCore
@testable import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Hummingbird
import HummingbirdTesting
import Testing

/// Nodes and the real hub logic together, through the in-process transport and in virtual time.
@Suite struct FederationTests {
    func federation(_ ids: [String], clock: Date = NodeFixture.now) throws -> (HubFixture, [NodeFixture]) {
        try HubFixture.federation(ids, clock: clock)
    }

    func sync(_ h: HubFixture, _ nodes: [NodeFixture]) async throws {
        for n in nodes { while try await h.pusher(n).pushOnce() > 0 {} }
        for n in nodes { while try await h.receiver(n).pullOnce(wait: 0) > 0 {} }
        for n in nodes { _ = try await h.receiver(n).pullOnce(wait: 0) }
    }

    @Test func writesConvergeAndACorrectionReachesEveryNode() async throws {
        let (h, nodes) = try federation(["360100", "360700", "360900"])
        let (nanchang, ganzhou, yichun) = (nodes[0], nodes[1], nodes[2])
        _ = try nanchang.service.submit(nanchang.punishments(0..<20), by: nanchang.identity)
        _ = try ganzhou.service.submit(ganzhou.punishments(0..<10), by: ganzhou.identity)
        try await sync(h, nodes)
        #expect(try h.store.hubHead().size == 30)
        let key = RecordKey(provider: nanchang.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-3")
        #expect(try yichun.service.store.record(key)?.status == "active")

        // A revocation at Nanchang reaches the hub and every copy; the Article 41 windows are met.
        h.clock.advance(by: 3600)
        _ = try nanchang.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-3", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕3号", effectiveAt: h.now.addingTimeInterval(-86_400), by: nanchang.identity)
        try await sync(h, nodes)
        for n in [ganzhou, yichun] { #expect(try n.service.store.record(key)?.status == "revoked") }
        let windows = try h.hub.correctionStatuses()
        #expect(windows.count == 1)
        #expect(windows[0].reachHubState == .met)
        #expect(windows[0].fixCopiesState == .met)
        let snapshot = try h.hub.snapshot()
        #expect(snapshot.nodes.allSatisfy { $0.lagChanges == 0 })
        // The status lists windows needing attention by default; closed ones on request.
        #expect(snapshot.corrections.isEmpty && snapshot.windowCounts["fix-copies/met"] == 1)
        #expect(try h.hub.snapshot(windows: .closed).corrections.map(\.row.recordKey).allSatisfy { $0.hasSuffix("CF-360100-2026-3") })
        #expect(try h.hub.snapshot(windows: .closed).corrections.count == 1)
        #expect(try h.hub.snapshot(windows: .all).corrections.count == 1)
        try await Application(router: OperatorAPI.router(service: h.hub)).test(.router) { client in
            try await client.execute(uri: "/v1/status?windows=closed", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body).contains("CF-360100-2026-3"))
            }
            try await client.execute(uri: "/v1/status?windows=everything", method: .get) { response in
                #expect(response.status == .badRequest && String(buffer: response.body).contains("bad-request"))
            }
        }
        #expect(try h.hub.complianceReport(from: h.now.addingTimeInterval(-86_400), to: h.now.addingTimeInterval(60)).contains(",met,"))
    }

    @Test func theSameRecordThroughTwoNodesIsOneRecordWithTwoRoutes() async throws {
        let (h, nodes) = try federation(["360100", "360400"])
        // The provincial regulator's credential at two nodes submits the same record.
        let record = nodes[0].punishments(5..<6)
        let unit = nodes[0].identity.unit
        let second = try nodes[1].service.store.addCredential(name: "same unit", unit: try UnifiedSocialCreditCode.parse(unit), writeItems: nil, readScope: .all, at: h.now)
        let identity = try #require(try nodes[1].service.store.authenticate(token: second.token))
        _ = try nodes[0].service.submit(record, by: nodes[0].identity)
        _ = try nodes[1].service.submit(record, by: identity)
        try await sync(h, nodes)
        let held = try #require(try h.store.record("\(unit)/administrative-punishment/CF-360100-2026-5"))
        #expect(held.version == 1)
        #expect(held.routes == ["360100", "360400"])
        #expect(try h.store.hubHead().size == 1)
        #expect(try h.store.counts().conflicts == 0)
    }

    /// An open correction names the nodes whose copies are not fixed yet, in the status and on
    /// the dashboard the at-risk alert sends operators to: whom to chase before the deadline.
    @Test func anOpenCorrectionNamesTheNodesStillToFixTheirCopies() async throws {
        let (h, nodes) = try federation(["360100", "360700", "360900"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<2), by: nodes[0].identity)
        try await sync(h, nodes)
        _ = try nodes[0].service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-1", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕4号", effectiveAt: nil, by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        _ = try await h.receiver(nodes[1]).pullOnce(wait: 0)
        let open = try #require(try h.hub.snapshot().corrections.first)
        #expect(open.waitingFor == ["360900"], "the origin and the node that applied it are not waited for")
        try await Application(router: OperatorAPI.router(service: h.hub)).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(String(buffer: response.body).contains("<th>copies not yet fixed at</th>"))
                #expect(String(buffer: response.body).contains("<td>360900 node 360900</td></tr>"), "named by code and name")
            }
        }
        _ = try await h.receiver(nodes[2]).pullOnce(wait: 0)
        _ = try await h.receiver(nodes[2]).pullOnce(wait: 0)
        #expect(try h.hub.snapshot().corrections.isEmpty, "every copy fixed: nothing left to chase")
    }

    @Test func aSubscriptionNarrowsNewRecordsButEveryCorrectionReachesEveryNode() async throws {
        let (h, nodes) = try federation(["360100", "360700", "360900"])
        let (nanchang, ganzhou, yichun) = (nodes[0], nodes[1], nodes[2])
        // Ganzhou only wants permits; Yichun everything (the default).
        try h.store.subscribe(node: "360700", to: NodeSubscription(items: ["administrative-permit"]))
        #expect(try h.store.nodes().first { $0.id == "360700" }?.subscription == ["administrative-permit"])
        _ = try nanchang.service.submit(nanchang.punishments(0..<5), by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        let lags = Dictionary(uniqueKeysWithValues: try h.store.lags(now: h.now).map { ($0.id, $0.lagChanges) })
        #expect(lags["360700"] == 0 && lags["360900"] == 5)
        try await sync(h, nodes)
        let key = RecordKey(provider: nanchang.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-2")
        #expect(try ganzhou.service.store.record(key) == nil)
        #expect(try yichun.service.store.record(key)?.status == "active")
        // A revocation goes to every node; Ganzhou, which never held the record, ignores it.
        _ = try nanchang.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-2", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕5号", effectiveAt: h.now, by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        #expect(try h.store.lags(now: h.now).first { $0.id == "360700" }?.lagChanges == 1)
        try await sync(h, nodes)
        #expect(try ganzhou.service.store.record(key) == nil)
        #expect(try yichun.service.store.record(key)?.status == "revoked")
        #expect(try h.store.lags(now: h.now).allSatisfy { $0.lagChanges == 0 })
        // Every node has passed the revocation, so its "every copy fixed" window is closed.
        #expect(try h.hub.correctionStatuses().first?.fixCopiesState == .met)
        try h.store.subscribe(node: "360700", to: .all)
        #expect(try h.store.nodes().first { $0.id == "360700" }?.subscription == nil)
    }

    /// A correction the hub has not received has an Article 41 window only its node can see:
    /// the node counts it by the state of that window, for the alerts to flag it in time.
    @Test func aCorrectionTheHubHasNotReceivedIsCountedByItsNodeUntilItArrives() async throws {
        // Effective Wednesday 2026-09-30 10:00: due at the hub by Saturday 2026-10-10 (the make-up day).
        let start = ISO8601DateFormatter().date(from: "2026-09-30T02:00:00Z")!
        let (h, nodes) = try HubFixture.federation(["360100", "360700"], clock: start, sharedClock: true)
        let nanchang = nodes[0]
        func count(_ state: String) throws -> Int? {
            try nanchang.service.metricsExposition().split(separator: "\n")
                .first { $0.hasPrefix("creditsync_node_unpushed_corrections{state=\"\(state)\"}") }.flatMap { Double($0.split(separator: " ").last!) }.map { Int($0) }
        }
        _ = try nanchang.service.submit(nanchang.punishments(0..<3), by: nanchang.identity)
        _ = try await h.pusher(nanchang).pushOnce()
        #expect(try count("on-time") == 0 && count("breached") == 0, "every state is exported from the start")
        // Another node's revocation, applied here from the fan-out, is not this node's to push
        // (its sequence, 6, is past Nanchang's acknowledged 3: only the origin tells them apart).
        let ganzhou = nodes[1]
        _ = try ganzhou.service.submit(ganzhou.punishments(0..<5), by: ganzhou.identity)
        _ = try ganzhou.service.revoke(item: "administrative-punishment", recordId: "CF-360700-2026-4", reason: "撤销",
                                       decisionDocument: "虔复决〔2026〕1号", effectiveAt: start, by: ganzhou.identity)
        while try await h.pusher(ganzhou).pushOnce() > 0 {}
        while try await h.receiver(nanchang).pullOnce(wait: 0) > 0 {}
        #expect(try nanchang.service.store.record(RecordKey(provider: ganzhou.identity.unit, item: "administrative-punishment",
                                                            recordId: "CF-360700-2026-4"))?.status == "revoked")
        #expect(try count("on-time") == 0)
        // Two revocations and a correction the node cannot push (the hub is not asked).
        for i in 0..<2 {
            _ = try nanchang.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-\(i)", reason: "撤销",
                                            decisionDocument: "洪复决〔2026〕\(i + 1)号", effectiveAt: start, by: nanchang.identity)
        }
        #expect(try count("on-time") == 2)
        // Creates are not corrections, and another node's corrections are not this node's.
        _ = try nanchang.service.submit(nanchang.punishments(3..<4), by: nanchang.identity)
        #expect(try count("on-time") == 2)
        // The last day (09:00 on the Saturday make-up day): at risk; past its end: breached.
        h.clock.set(ISO8601DateFormatter().date(from: "2026-10-10T01:00:00Z")!)
        #expect(try count("at-risk") == 2 && count("on-time") == 0)
        h.clock.set(ISO8601DateFormatter().date(from: "2026-10-10T16:00:01Z")!)
        #expect(try count("breached") == 2 && count("at-risk") == 0)
        // The hub receives them (late: it says missed) and the node counts none.
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        #expect(try count("breached") == 0 && count("on-time") == 0)
        let nanchangs = try h.hub.correctionStatuses().filter { $0.row.originNode == "360100" }
        #expect(nanchangs.count == 2 && nanchangs.allSatisfy { $0.reachHubState == .missed })
    }

    @Test func windowsMoveWithTheClockAcrossHolidays() async throws {
        // A revocation effective on 2026-09-30 at 10:00: it must reach the hub by 2026-10-10 (a
        // Saturday make-up working day after the National Day holiday).
        let start = ISO8601DateFormatter().date(from: "2026-09-30T02:00:00Z")!
        let (h, nodes) = try federation(["360100", "360700"], clock: start)
        let nanchang = nodes[0]
        _ = try nanchang.service.submit(nanchang.punishments(0..<1), by: nanchang.identity)
        _ = try await h.pusher(nanchang).pushOnce()
        _ = try nanchang.service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-0", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕1号", effectiveAt: start, by: nanchang.identity)
        // The node sits on it through the holiday; the hub gets it on 2026-10-09 at 20:00.
        h.clock.set(ISO8601DateFormatter().date(from: "2026-10-09T12:00:00Z")!)
        _ = try await h.pusher(nanchang).pushOnce()
        var w = try #require(try h.hub.correctionStatuses().first)
        #expect(w.reachHub.deadline.due == CivilDate(year: 2026, month: 10, day: 10))
        #expect(w.reachHubState == .met)
        // Copies must be fixed within 4 working days of receipt (10-10 Saturday make-up, 12, 13, 14): by 2026-10-14.
        #expect(w.fixCopies.deadline.due == CivilDate(year: 2026, month: 10, day: 14))
        #expect(w.fixCopiesState == .onTime)
        // Ganzhou does not apply it. On the last day the window is at risk, then breached.
        h.clock.set(ISO8601DateFormatter().date(from: "2026-10-14T01:00:00Z")!) // 09:00 China time
        w = try #require(try h.hub.correctionStatuses().first)
        #expect(w.fixCopiesState == .atRisk)
        // The snapshot says how long is left: the 15 hours to 24:00 Asia/Shanghai, 0.625 of a
        // day, rounded down (at risk is less than one: never shown as 1).
        var shown = try #require(try h.hub.snapshot().corrections.first)
        #expect(shown.fixCopies.workingDaysLeft == 0.62 && shown.reachHub.workingDaysLeft == nil, "the reach-hub window is closed")
        #expect(StatusTable.render(try h.hub.snapshot()).contains("all copies by 2026-10-14 at-risk (0.6 working days left)"))
        #expect(Dashboard.html(try h.hub.snapshot()).contains("2026-10-14 · 0.6 working days left"))
        #expect(w.fixCopies.workingDaysLeft == nil, "filled only where a window is shown at a moment")
        h.clock.set(ISO8601DateFormatter().date(from: "2026-10-14T16:00:01Z")!) // 00:00:01 on the 15th
        w = try #require(try h.hub.correctionStatuses().first)
        #expect(w.fixCopiesState == .breached)
        #expect(try h.hub.snapshot().windowCounts["fix-copies/breached"] == 1)
        // Ganzhou finally applies it: the window is missed, not breached any more.
        _ = try await h.receiver(nodes[1]).pullOnce(wait: 0)
        w = try #require(try h.hub.correctionStatuses().first)
        #expect(w.fixCopiesState == .missed)
        #expect(try h.hub.snapshot().windowsNeedAttention, "creditsync status exits 1 on a missed window")
        // For a day: then the miss is still listed (for 30 days) but no longer fails the check.
        h.clock.advance(by: 86_400 + 1)
        shown = try #require(try h.hub.snapshot().corrections.first)
        #expect(shown.fixCopiesState == .missed && shown.fixCopies.workingDaysLeft == nil)
        #expect(try !h.hub.snapshot().windowsNeedAttention && h.hub.snapshot().windowCounts["fix-copies/missed"] == 1)
    }

    /// The operators' views cost the same at any history size: records are counted as merged,
    /// and closed windows older than the snapshot's days are left to the compliance report.
    @Test func operatorViewsReadKeptCountsAndRecentWindows() async throws {
        let (h, nodes) = try federation(["360100", "360700"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<6), by: nodes[0].identity)
        _ = try nodes[0].service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-1", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕7号", effectiveAt: h.now, by: nodes[0].identity)
        try await sync(h, nodes)
        #expect(try h.store.counts().records == 6)
        #expect(try h.store.counts().hubLog == 7)
        #expect(try h.hub.snapshot().windowCounts["fix-copies/met"] == 1)
        h.clock.advance(by: Double(HubService.snapshotDays + 1) * 86_400)
        let later = try h.hub.snapshot()
        #expect(later.windowCounts.isEmpty && later.corrections.isEmpty)
        #expect(try h.hub.correctionStatuses().count == 1, "the report still has it")
    }

    /// A node away for longer than the operators' views look back: the copies it fixes on its
    /// return close a window received long ago, and that miss is listed, counted and fails the
    /// check from when it closed, not dropped for its old receipt.
    @Test func aWindowClosedLateAfterALongAbsenceIsListedFromWhenItClosed() async throws {
        let (h, nodes) = try federation(["360100", "360700"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<1), by: nodes[0].identity)
        try await sync(h, nodes)
        _ = try nodes[0].service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-0", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕9号", effectiveAt: h.now, by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        // Ganzhou is away for longer than the snapshot's days.
        h.clock.advance(by: Double(HubService.snapshotDays + 10) * 86_400)
        #expect(try h.hub.snapshot().windowCounts["fix-copies/breached"] == 1)
        _ = try await h.receiver(nodes[1]).pullOnce(wait: 0)
        let after = try h.hub.snapshot()
        #expect(after.windowCounts["fix-copies/missed"] == 1 && after.windowCounts["fix-copies/breached"] == nil)
        #expect(after.corrections.map(\.fixCopiesState) == [.missed], "listed by default, as a miss needs attention")
        #expect(try h.hub.snapshot(windows: .closed).corrections.count == 1)
        #expect(after.recentlyMissed == 1 && after.windowsNeedAttention)
        let missed = try h.hub.metricsExposition().split(separator: "\n").first {
            $0.hasPrefix("creditsync_hub_corrections{") && $0.contains(#"window="fix-copies""#) && $0.contains(#"state="missed""#)
        }
        #expect(missed.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } == 1, "\(missed ?? "no series")")
        // Thirty days after it closed, it is left to the compliance report.
        h.clock.advance(by: Double(HubService.snapshotDays + 1) * 86_400)
        #expect(try h.hub.snapshot().corrections.isEmpty)
    }

    /// A node's last refusal on the dashboard is cut at a space, never inside a number (a clock
    /// reading of the hub's was shown cut short), and kept whole in its tooltip.
    @Test func aLongRefusalIsCutAtASpaceOnTheDashboardAndKeptWholeInItsTooltip() async throws {
        let (h, _) = try federation(["360100", "360700"])
        var snapshot = try h.hub.snapshot()
        let reason = String(repeating: "ab ", count: 38) + "1797577533 \"tail\""
        var health = NodeHealth()
        health.lastRefusal = reason
        snapshot.health["360700"] = health
        let html = Dashboard.html(snapshot)
        #expect(html.contains("ab ab …</span>"), "cut at the space before the number")
        #expect(html.contains("title=\"\(String(repeating: "ab ", count: 38))1797577533 &quot;tail&quot;\""), "whole, quotes escaped")
    }

    /// Lag and replication latency are measured from the provider's acknowledged write at its
    /// node, both hops, not from the hub's ingest.
    @Test func replicationIsMeasuredFromTheProvidersWrite() async throws {
        let (h, nodes) = try federation(["360100", "360700"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<3), by: nodes[0].identity) // accepted at NodeFixture.now
        h.clock.advance(by: 1)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        h.clock.advance(by: 1)
        #expect(try h.store.lags(now: h.now).first { $0.id == "360700" }?.lagSeconds == 2)
        _ = try await h.receiver(nodes[1]).pullOnce(wait: 0)
        let text = h.hub.metrics.exposition()
        #expect(text.contains("creditsync_replication_seconds_count 3"), "\(text)")
        #expect(text.contains(#"creditsync_replication_seconds_bucket{le="1.0"} 0"#))
        #expect(text.contains(#"creditsync_replication_seconds_bucket{le="2.5"} 3"#))
    }

    /// A node restored from an older backup asks for its fan-out from where the backup was: the
    /// hub shows the lag it has again, though it keeps the highest position the node once
    /// acknowledged (the correction windows it closed stay closed), and the lag shrinks as the
    /// node reads on.
    @Test func aNodeRestoredFromAnOlderBackupShowsItsLagAgain() async throws {
        let dir = try Fixtures.temporaryDirectory("lag-after-restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("node.sqlite").path, backup = dir.appendingPathComponent("backup.sqlite").path
        let h = try HubFixture(fanOutLimit: 4)
        let nanchang = try NodeFixture(node: "360100", readScope: .all)
        var ganzhou = try NodeFixture(node: "360700", path: path, readScope: .all)
        try h.enroll("360100", key: nanchang.key)
        try h.enroll("360700", key: ganzhou.key)
        func lag() throws -> (applied: UInt64, changes: Int) {
            let row = try #require(try h.store.lags(now: h.now).first { $0.id == "360700" })
            return (row.fanOutApplied, row.lagChanges)
        }
        _ = try nanchang.service.submit(nanchang.punishments(0..<4), by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        while try await h.receiver(ganzhou).pullOnce(wait: 0) > 0 {}
        try ganzhou.service.store.backup(to: backup)
        _ = try nanchang.service.submit(nanchang.punishments(4..<12), by: nanchang.identity)
        while try await h.pusher(nanchang).pushOnce() > 0 {}
        while try await h.receiver(ganzhou).pullOnce(wait: 0) > 0 {}
        _ = try await h.receiver(ganzhou).pullOnce(wait: 0)
        #expect(try lag() == (12, 0))

        try ganzhou.service.store.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        ganzhou = try NodeFixture(node: "360700", path: path, readScope: .all)
        #expect(try await h.receiver(ganzhou).pullOnce(wait: 0) == 4)
        // Its requests said what it has applied since the restore (4, then 8 as it reads ahead).
        let seen = try lag()
        #expect(seen.applied < 12 && seen.changes == Int(12 - seen.applied), "\(seen)")
        while try await h.receiver(ganzhou).pullOnce(wait: 0) > 0 {}
        _ = try await h.receiver(ganzhou).pullOnce(wait: 0)
        #expect(try lag() == (12, 0))
    }

    @Test func aRevokedNodeReportsNoLagAndCountersStartAtZero() async throws {
        let (h, nodes) = try federation(["360100", "360700"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<3), by: nodes[0].identity)
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        try h.hub.refreshMetrics()
        var text = h.hub.metrics.exposition()
        #expect(text.contains(#"creditsync_hub_node_lag_changes{node="360700"} 3"#))
        // Every merge refusal code the alert rules watch starts at 0: increase() cannot see a first value.
        for code in ["catalog-version", "invalid-record", "invalid-rights", "key-mismatch", "not-canonical", "unknown-record", "not-home", "not-in-area", "revoked"] {
            #expect(text.contains(#"creditsync_hub_refused_changes_total{node="360700",code="\#(code)"} 0"#), "\(code)")
        }
        #expect(text.contains(#"creditsync_hub_equivocations_total{node="360700"} 0"#))
        #expect(!(try h.hub.snapshot().windowsNeedAttention))
        try h.store.revoke(node: "360700", at: h.now)
        try h.hub.refreshMetrics()
        text = h.hub.metrics.exposition()
        #expect(text.contains(#"creditsync_hub_node_lag_changes{node="360700"} 0"#), "a revoked node would page someone")
    }

    @Test func aDeadlineInAnUnpublishedYearIsProvisionalUntilTheYearIsLoaded() async throws {
        let start = ISO8601DateFormatter().date(from: "2026-12-30T02:00:00Z")!
        let (h, nodes) = try federation(["360100", "360700"], clock: start)
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<1), by: nodes[0].identity)
        _ = try nodes[0].service.revoke(item: "administrative-punishment", recordId: "CF-360100-2026-0", reason: "撤销",
                                        decisionDocument: "洪复决〔2026〕2号", effectiveAt: start, by: nodes[0].identity)
        _ = try await h.pusher(nodes[0]).pushOnce()
        var w = try #require(try h.hub.correctionStatuses().first)
        #expect(w.fixCopies.deadline.isProvisional)
        #expect(w.fixCopiesState == .provisional)
        // On its due date it is at risk, and `creditsync status` still says the date is provisional.
        h.clock.set(ISO8601DateFormatter().date(from: "2027-01-05T02:00:00Z")!) // 10:00 China time
        #expect(try h.hub.correctionStatuses().first?.fixCopiesState == .atRisk)
        #expect(StatusTable.render(try h.hub.snapshot()).contains("all copies by 2027-01-05 (provisional) at-risk (0.5 working days left)"))
        // The 2027 notice arrives (New Year's Day a holiday): the due date moves and is final.
        var reference = Fixtures.reference
        let files = try [2025, 2026].map { try HolidayFile.decode(Data(contentsOf: ReferenceDataPaths.calendar($0)), source: "") }
        reference.calendar = try WorkingDayCalendar(files: files + [HolidayFile(year: 2027, days: [
            .init(name: "元旦", date: CivilDate(year: 2027, month: 1, day: 1)!, isOffDay: true)])])
        h.hub.update(reference: reference)
        w = try #require(try h.hub.correctionStatuses().first)
        #expect(!w.fixCopies.deadline.isProvisional)
        #expect(w.fixCopies.deadline.due == CivilDate(year: 2027, month: 1, day: 6))
        #expect(w.fixCopiesState == .onTime)
    }
}
