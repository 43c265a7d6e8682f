public import CreditCore
public import Prometheus
import Foundation
import Synchronization

/// The node's Prometheus metrics, in a registry of its own (no global state, so tests can run
/// several nodes in one process). Gauges that mirror the store are refreshed just before each
/// scrape by ``refresh(from:now:)``.
public final class NodeMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let acceptedCounter: Counter
    private let rejectedCounters = Mutex<[String: Counter]>([:])
    let logSize: Gauge
    let unpushed: Gauge
    let oldestUnpushedAge: Gauge
    let lastPush: Gauge
    let acknowledged: Gauge
    let fanOutApplied: Gauge
    let hubHistoryConflicts: Gauge
    let refusedWrites: Gauge
    let lastFanOut: Gauge
    let pushAttempts: Counter
    let pushFailures: Counter
    /// The node's own corrections the hub has not acknowledged, by the state of their Article 41
    /// "reach the hub" window.
    let unpushedCorrections: [LegalWindow.State: Gauge]
    static let unpushedCorrectionStates: [LegalWindow.State] = [.onTime, .provisional, .atRisk, .breached]

    public init() {
        // The whole name as the metric's name: Prometheus appends no unit.
        func metric(_ name: String, _ help: String) -> MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
        acceptedCounter = registry.makeCounter(descriptor: metric("creditsync_node_records_accepted_total", "Records accepted and logged."))
        logSize = registry.makeGauge(descriptor: metric("creditsync_node_log_size", "Changes in the node's log."))
        unpushed = registry.makeGauge(descriptor: metric("creditsync_node_unpushed_changes", "Changes not yet acknowledged by the hub."))
        oldestUnpushedAge = registry.makeGauge(descriptor: metric("creditsync_node_oldest_unpushed_age_seconds",
                                                                "Age of the oldest change the hub has not acknowledged (0 when none)."))
        lastPush = registry.makeGauge(descriptor: metric("creditsync_node_last_push_timestamp_seconds", "When a push last succeeded."))
        acknowledged = registry.makeGauge(descriptor: metric("creditsync_node_hub_acknowledged_sequence", "The hub's acknowledged position."))
        fanOutApplied = registry.makeGauge(descriptor: metric("creditsync_node_fanout_applied_position", "The last hub log position applied."))
        registry.makeGauge(descriptor: metric("creditsync_build_info", "1, labelled with the build's version and protocol."),
                           labels: [("version", BuildInfo.version), ("protocol", BuildInfo.protocolVersion), ("role", "node")]).set(Double(1))
        hubHistoryConflicts = registry.makeGauge(descriptor: metric("creditsync_node_hub_history_conflicts",
                                                                  "Hub heads no consistency proof joined to the one pinned before (kept as evidence)."))
        refusedWrites = registry.makeGauge(descriptor: metric("creditsync_node_refused_writes",
                                                            "Record writes this node acknowledged that the hub refused to merge (GET /v1/refusals)."))
        lastFanOut = registry.makeGauge(descriptor: metric("creditsync_node_last_fanout_timestamp_seconds", "When a fan-out batch was last applied."))
        pushAttempts = registry.makeCounter(descriptor: metric("creditsync_node_push_attempts_total", "Change-set pushes attempted."))
        pushFailures = registry.makeCounter(descriptor: metric("creditsync_node_push_failures_total", "Change-set pushes that failed."))
        let registry = registry
        unpushedCorrections = Dictionary(uniqueKeysWithValues: NodeMetrics.unpushedCorrectionStates.map { state in
            (state, registry.makeGauge(descriptor: metric("creditsync_node_unpushed_corrections",
                                                          "This node's corrections and revocations the hub has not acknowledged, by the state of their "
                                                          + "Article 41 window to reach it (3 working days from the day they took effect)."),
                                       labels: [("state", state.rawValue)]))
        })
    }

    func accepted(_ n: Int = 1) { acceptedCounter.increment(by: Int64(n)) }

    /// Counts a rejected record under each distinct reason code it had.
    func rejected(reasons: [String]) {
        for reason in Set(reasons) {
            let counter = rejectedCounters.withLock { counters in
                if let c = counters[reason] { return c }
                let c = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "creditsync_node_records_rejected_total", unitName: "",
                                                                              helpText: "Records rejected, by reason."),
                                             labels: [("reason", reason)])
                counters[reason] = c
                return c
            }
            counter.increment()
        }
    }

    /// Refreshes the gauges that mirror the store; `node`'s unpushed corrections are counted on
    /// `calendar`.
    public func refresh(from store: NodeStore, node: String, calendar: WorkingDayCalendar, nowMillis: UInt64) throws {
        var corrections: [LegalWindow.State: Int] = [:]
        let now = Date(timeIntervalSince1970: Double(nowMillis) / 1000)
        for day in try store.unpushedCorrectionsByDay(node: node) {
            let effective = Date(timeIntervalSince1970: Double(day.effectiveAt) / 1000)
            let window = LegalWindow(deadline: Article41.reachHub(effectiveAt: effective, calendar: calendar))
            corrections[window.state(at: now, calendar: calendar), default: 0] += day.count
        }
        for (state, gauge) in unpushedCorrections { gauge.set(Double(corrections[state] ?? 0)) }
        let state = try store.pushState()
        logSize.set(Double(state.logSize))
        unpushed.set(Double(state.logSize - min(state.acknowledged, state.logSize)))
        acknowledged.set(Double(state.acknowledged))
        let oldest = try store.oldestUnpushedAcceptedAt()
        oldestUnpushedAge.set(oldest.map { Double(nowMillis > $0 ? nowMillis - $0 : 0) / 1000 } ?? 0)
        let activity = try store.lastActivity()
        lastPush.set(Double(activity.push) / 1000)
        lastFanOut.set(Double(activity.fanOut) / 1000)
        fanOutApplied.set(Double(try store.fanOutPosition()))
        hubHistoryConflicts.set(Double(try store.hubHistoryConflicts()))
        refusedWrites.set(Double(try store.refusedWriteCount()))
    }

    /// The Prometheus text exposition.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
