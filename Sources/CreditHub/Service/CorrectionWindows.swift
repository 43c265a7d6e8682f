public import CreditCore
public import Foundation

/// A correction or revocation with its two Article 41 windows.
public struct CorrectionStatus: Sendable, Codable, Equatable {
    public var row: CorrectionRow
    /// From the provider's effective time to the hub's receipt: 3 working days.
    public var reachHub: LegalWindow
    public var reachHubState: LegalWindow.State
    /// From the hub's receipt until every node holding the record applied it: 4 working days.
    public var fixCopies: LegalWindow
    public var fixCopiesState: LegalWindow.State
    /// While the window is open, the active nodes (its origin aside) that have not applied the
    /// hub log through it: whom an operator chases before the deadline. Filled in the status
    /// snapshot (``HubService/snapshot(windows:)``), empty elsewhere.
    public var waitingFor: [String] = []
}

extension HubService {
    /// Article 41's windows of `row`, on the calendar in force, at `now`.
    public func windows(_ row: CorrectionRow, at now: Date) -> CorrectionStatus {
        let calendar = reference.calendar
        let reach = LegalWindow(deadline: Article41.reachHub(effectiveAt: row.effectiveAt, calendar: calendar), completedAt: row.receivedAt)
        let fix = LegalWindow(deadline: Article41.fixCopies(receivedAt: row.receivedAt, calendar: calendar), completedAt: row.completedAt)
        return CorrectionStatus(row: row, reachHub: reach, reachHubState: reach.state(at: now, calendar: calendar),
                                fixCopies: fix, fixCopiesState: fix.state(at: now, calendar: calendar))
    }

    /// Every correction's windows, received in [from, to).
    public func correctionStatuses(from: Date? = nil, to: Date? = nil, openOnly: Bool = false) throws -> [CorrectionStatus] {
        let now = now()
        return try store.corrections(receivedFrom: from, to: to, openOnly: openOnly).map { windows($0, at: now) }
    }

    /// What operators see: nodes with lag, windows at risk or breached, conflicts, equivocations.
    public struct Snapshot: Sendable, Codable {
        public var hub: String
        public var generatedAt: Date
        public var hubLogSize: UInt64
        public var records: Int
        public var nodes: [NodeLag]
        public var corrections: [CorrectionStatus]
        /// The windows of credit subjects' cases (Articles 39 and 40, `Protocol/rights.md` §5),
        /// filtered as ``corrections`` is.
        public var rights: [RightsWindowStatus]
        /// Windows by `window/state`, Article 41's and the rights windows alike.
        public var windowCounts: [String: Int]
        /// Windows (Article 41's and the rights windows) done after their end within the last
        /// 24 hours; ``windowCounts`` keeps counting a miss for 30 days. Optional so that a
        /// `creditsync status` reads a hub that does not send it.
        public var recentlyMissed: Int?

        /// ``windowCounts`` split into Article 41's and the rights windows', each in key order:
        /// what the dashboard and `creditsync status` show under their own headings.
        public var windowCountsByArticle: (article41: [(key: String, value: Int)], rights: [(key: String, value: Int)]) {
            let rightsNames = Set(RightsWindowStatus.Name.allCases.map(\.rawValue))
            let sorted = windowCounts.sorted { $0.key < $1.key }
            let isRights = { (key: String) in rightsNames.contains(String(key.prefix { $0 != "/" })) }
            return (sorted.filter { !isRights($0.key) }, sorted.filter { isRights($0.key) })
        }
        public var conflicts: [ConflictRow]
        /// The most recent changes the merge refused (`Protocol/merge.md` §3).
        public var refusals: [ChangeRefusal]
        public var equivocations: Int
        /// Each node's requests since the hub started: version, refusals, retries (``NodeHealth``).
        public var health: [String: NodeHealth]
        /// Hub heads nodes pinned that this log does not contain, newest first.
        public var forkReports: [ForkReport]
        /// The years without an official calendar that a window opened now can reach
        /// (``provisionalYears(at:calendar:)``): deadlines in them assume Monday–Friday.
        public var provisionalYears: [Int]

        /// Whether a window (Article 41's or a rights window) is open and at risk or breached,
        /// or was missed within the last 24 hours: what `creditsync status` exits 1 on. A miss
        /// cannot be undone, so a check that stayed WARNING for the 30 days it is listed would
        /// teach operators to ignore it; the compliance report keeps it for the auditor.
        public var windowsNeedAttention: Bool {
            recentlyMissed ?? 0 > 0 || windowCounts.contains { key, count in count > 0 && ["at-risk", "breached"].contains { key.hasSuffix("/\($0)") } }
        }
    }

    /// Which corrections the status lists (`/v1/status?windows=…`).
    public enum WindowFilter: String, Sendable, CaseIterable {
        case attention, closed, all
    }

    /// How far back the status snapshot's closed windows go.
    public static let snapshotDays = 30

    /// The status snapshot at the injected clock's now.
    ///
    /// Its windows are those of the corrections still open and of those received or completed
    /// in the last ``snapshotDays`` days (a window a node fixed late, after a long absence, is
    /// listed from when it closed): what an operator acts on, at a cost that does not grow with the
    /// province's history (`creditsync hub report` covers any period).
    ///
    /// `windows` picks which corrections are listed: ``WindowFilter/attention`` (open, at risk,
    /// breached or missed: the default), ``WindowFilter/closed`` (met or missed, of the last
    /// ``snapshotDays`` days) or ``WindowFilter/all``; at most 200, newest last. The counts
    /// always cover them all.
    public func snapshot(windows filter: WindowFilter = .attention) throws -> Snapshot {
        let now = now()
        let counts = try store.counts()
        let all = try store.corrections(openOrClosedSince: now.addingTimeInterval(-Double(Self.snapshotDays) * 86_400))
            .map { windows($0, at: now) }
        var windowCounts: [String: Int] = [:]
        for c in all {
            windowCounts["reach-hub/\(c.reachHubState.rawValue)", default: 0] += 1
            windowCounts["fix-copies/\(c.fixCopiesState.rawValue)", default: 0] += 1
        }
        // Seen is when a request of the node's last reached the hub: one still in its long poll
        // counts, so a node just started is not "never seen" for its first 25 s.
        let stored = try store.lags(now: now)
        let health = nodeHealth(enrolled: stored.map(\.id))
        let lags = stored.map { lag in
            var lag = lag
            if let reached = health[lag.id]?.lastAuthenticatedAt, reached > lag.lastSeen ?? .distantPast { lag.lastSeen = reached }
            return lag
        }
        var interesting = all.filter { c in
            switch filter {
            case .attention: c.row.completedAt == nil || [.breached, .missed, .atRisk].contains(c.reachHubState) || c.fixCopiesState == .missed
            case .closed: c.row.completedAt != nil
            case .all: true
            }
        }
        // At most 200 are listed: only their nodes are worked out (one node offline keeps every
        // correction since open).
        interesting = Array(interesting.suffix(200))
        let calendar = reference.calendar
        for i in interesting.indices where interesting[i].row.completedAt == nil {
            let c = interesting[i].row
            interesting[i].waitingFor = lags.filter { $0.status == "active" && $0.id != c.originNode && $0.fanOutApplied < c.hubPosition }.map(\.id)
            interesting[i].reachHub = interesting[i].reachHub.showingWorkingDaysLeft(at: now, calendar: calendar)
            interesting[i].fixCopies = interesting[i].fixCopies.showingWorkingDaysLeft(at: now, calendar: calendar)
        }
        let rightsWindows = try recentRightsWindows(at: now)
        for w in rightsWindows { windowCounts["\(w.name.rawValue)/\(w.state.rawValue)", default: 0] += 1 }
        var interestingRights = Array(rightsWindows.filter { w in
            switch filter {
            case .attention: w.window.completedAt == nil || w.state == .missed
            case .closed: w.window.completedAt != nil
            case .all: true
            }
        }.suffix(200))
        // A label or a granted restoration waits for nodes, as a correction's copies do: named.
        for i in interestingRights.indices where interestingRights[i].window.completedAt == nil {
            // A paused window's clock is stopped (its end moves with the pause): no count down.
            if interestingRights[i].state != .paused {
                interestingRights[i].window = interestingRights[i].window.showingWorkingDaysLeft(at: now, calendar: calendar)
            }
            guard let position = interestingRights[i].position else { continue }
            interestingRights[i].waitingFor = lags.filter { $0.status == "active" && $0.fanOutApplied < position }.map(\.id)
        }
        // A miss is news for a day: `creditsync status` exits 1 for it that long, as the alert
        // fires for an hour, and not for the 30 days the snapshot keeps listing it.
        let dayAgo = now.addingTimeInterval(-86_400)
        let recentlyMissed = all.reduce(0) { n, c in
            n + [(c.reachHub, c.reachHubState), (c.fixCopies, c.fixCopiesState)]
                .filter { $0.1 == .missed && ($0.0.completedAt ?? .distantPast) > dayAgo }.count
        } + rightsWindows.filter { $0.state == .missed && ($0.window.completedAt ?? .distantPast) > dayAgo }.count
        // The log size read with the record count, in one transaction: a snapshot taken while a
        // set merges shows both before it or both after it.
        return Snapshot(hub: id, generatedAt: now, hubLogSize: UInt64(counts.hubLog), records: counts.records,
                        nodes: lags, corrections: interesting, rights: interestingRights,
                        windowCounts: windowCounts, recentlyMissed: recentlyMissed,
                        conflicts: try store.conflicts(limit: 50), refusals: try store.refusals(limit: 50), equivocations: counts.equivocations,
                        health: health, forkReports: try store.forkReports(),
                        provisionalYears: Self.provisionalYears(at: now, calendar: calendar))
    }

    /// The longest window a correction or a case opens: restoration's 10 working days (Article 40).
    static let longestWindowWorkingDays = 10

    /// The years without an official calendar that a window opened at `now` can reach: this
    /// year when its calendar is missing, and next year once the longest window opened today can
    /// end in it (from about mid-December). Next year's calendar is published late in the year
    /// before, so counting it from January on would keep the alert on for ten months, and
    /// operators would learn to ignore it before the weeks it matters.
    static func provisionalYears(at now: Date, calendar: WorkingDayCalendar) -> [Int] {
        let thisYear = ChinaTime.date(of: now).year
        let reached = (try? calendar.deadline(after: now, workingDays: longestWindowWorkingDays))?.provisionalYears ?? []
        return Array(Set(reached + (calendar.isPublished(year: thisYear) ? [] : [thisYear]))).sorted()
    }

    /// The metrics exposition, refreshed from the store: what a scrape reads.
    public func metricsExposition() throws -> String {
        try refreshMetrics()
        return metrics.exposition()
    }

    /// Whether the store answers: what `/readyz` reports.
    public var isReady: Bool { (try? store.hubHead()) != nil }

    /// Refreshes the gauges that mirror the store, for a scrape.
    public func refreshMetrics() throws {
        let snap = try snapshot()
        for node in snap.nodes {
            let l = [("node", node.id)]
            // A revoked node is not expected to apply anything: it reports no lag to page anyone with.
            let active = node.status == "active"
            metrics.gauge("creditsync_hub_node_lag_changes", l, help: "Hub-log changes the node has not applied.")
                .set(active ? Double(node.lagChanges) : 0)
            metrics.gauge("creditsync_hub_node_lag_seconds", l, help: "Age of the oldest of the next 10,000 hub-log changes the node has not applied.")
                .set(active ? node.lagSeconds : 0)
            // Counters exist from the start, at zero, so dashboards and rate() see them before the first event.
            metrics.touchCounters(node: node.id)
            metrics.gauge("creditsync_hub_node_last_seen_timestamp_seconds", l,
                          help: "When a request of the node last reached the hub (passed authentication), or it last pushed or acknowledged.")
                .set(node.lastSeen?.timeIntervalSince1970 ?? 0)
            metrics.gauge("creditsync_hub_node_acknowledged_sequence", l, help: "The node's log size the hub holds.").set(Double(node.acknowledged))
            metrics.gauge("creditsync_hub_node_up", l, help: "1 for an active node.").set(Double(node.status == "active" ? 1 : 0))
        }
        for window in ["reach-hub", "fix-copies"] {
            for state in LegalWindow.State.allCases {
                metrics.gauge("creditsync_hub_corrections", [("window", window), ("state", state.rawValue)],
                              help: "Article 41 windows by state.").set(Double(snap.windowCounts["\(window)/\(state.rawValue)"] ?? 0))
            }
        }
        for window in RightsWindowStatus.Name.allCases {
            for state in LegalWindow.State.allCases {
                metrics.gauge("creditsync_hub_rights_windows", [("window", window.rawValue), ("state", state.rawValue)],
                              help: "Windows of credit subjects' objections (Article 39) and restorations (Article 40) by state.")
                    .set(Double(snap.windowCounts["\(window.rawValue)/\(state.rawValue)"] ?? 0))
            }
        }
        let counts = try store.counts()
        metrics.gauge("creditsync_hub_conflicts_open", help: "Unresolved conflicts between nodes' versions of a record.").set(Double(counts.openConflicts))
        metrics.gauge("creditsync_hub_equivocations", help: "Equivocation evidence kept.").set(Double(counts.equivocations))
        metrics.gauge("creditsync_hub_log_size", help: "Effective changes in the hub log.").set(Double(counts.hubLog))
        metrics.gauge("creditsync_hub_records", help: "Records in the provincial store.").set(Double(counts.records))
        metrics.gauge("creditsync_hub_calendar_provisional_years", help: "Years without an official calendar that a window opened now can reach.")
            .set(Double(snap.provisionalYears.count))
    }
}
