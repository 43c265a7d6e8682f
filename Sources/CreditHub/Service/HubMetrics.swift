import CreditCore
public import Prometheus
import Synchronization

/// The hub's Prometheus metrics in a registry of its own. Per-node gauges and the window
/// counts are refreshed from the store just before each scrape.
public final class HubMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let counters = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    let ingestSeconds: DurationHistogram
    /// From a provider's acknowledged write at its origin node to another node's acknowledged apply.
    let replicationSeconds: DurationHistogram

    public init() {
        ingestSeconds = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "creditsync_hub_ingest_duration_seconds", unitName: "",
                                             helpText: "Time to verify-merge-sign one change set."),
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500), .seconds(2)])
        replicationSeconds = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "creditsync_replication_seconds", unitName: "",
                helpText: "From a provider's acknowledged write at its node to each other node's acknowledged apply (both hops)."),
            buckets: [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
                      .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(3600)])
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "creditsync_build_info", unitName: "",
                                                            helpText: "1, labelled with the build's version and protocol."),
                           labels: [("version", BuildInfo.version), ("protocol", BuildInfo.protocolVersion), ("role", "hub")]).set(Double(1))
    }

    func counter(_ name: String, _ labels: [(String, String)] = [], help: String) -> Counter {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return counters.withLock { c in
            if let existing = c[key] { return existing }
            let made = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
            c[key] = made
            return made
        }
    }

    func gauge(_ name: String, _ labels: [(String, String)] = [], help: String) -> Gauge {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return gauges.withLock { g in
            if let existing = g[key] { return existing }
            let made = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
            g[key] = made
            return made
        }
    }

    func ingested(node: String, changes: Int, merged: Int, elapsed: Duration) {
        counter("creditsync_hub_pushes_total", [("node", node)], help: "Change sets accepted, per node.").increment()
        counter("creditsync_hub_changes_ingested_total", help: "Changes received in accepted change sets.").increment(by: Int64(changes))
        counter("creditsync_hub_changes_merged_total", help: "Changes that became effective in the provincial store.").increment(by: Int64(merged))
        ingestSeconds.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    func replicated(_ latencies: [Double]) {
        for seconds in latencies { replicationSeconds.recordNanoseconds(Int64(seconds * 1e9)) }
    }

    /// Makes the per-node counters exist (at zero) before their first event.
    func touchCounters(node: String) {
        counter("creditsync_hub_pushes_total", [("node", node)], help: "Change sets accepted, per node.").increment(by: Int64(0))
        forkReportCounter(node: node).increment(by: Int64(0))
        counter("creditsync_hub_equivocations_total", [("node", node)], help: "Different change sets for an acknowledged range.").increment(by: Int64(0))
        for code in Self.mergeRefusalCodes { refusedChangeCounter(node: node, code: code).increment(by: Int64(0)) }
    }

    /// The codes of merge.md §2 and §3, each counted from 0 for every node: the alert rules take
    /// the `increase` of these counters, which cannot see a counter's first value.
    static let mergeRefusalCodes = ["catalog-version", "invalid-record", "invalid-rights", "key-mismatch", "not-canonical", "unknown-record", "not-home", "not-in-area", "revoked"]

    func refusedChangeCounter(node: String, code: String) -> Counter {
        counter("creditsync_hub_refused_changes_total", [("node", node), ("code", code)],
                help: "Changes in accepted change sets that the merge refused (Protocol/merge.md §3), per node and code.")
    }

    func refusedChange(node: String, code: String) {
        refusedChangeCounter(node: node, code: code).increment()
    }

    func refused(reason: String) {
        counter("creditsync_hub_refusals_total", [("reason", reason)], help: "Requests refused, by reason.").increment()
    }

    func forkReportCounter(node: String) -> Counter {
        counter("creditsync_hub_fork_reports_total", [("node", node)],
                help: "Pinned hub heads a node reported that this hub log does not contain (another history shown, or a restore).")
    }

    func equivocation(node: String) {
        counter("creditsync_hub_equivocations_total", [("node", node)], help: "Different change sets for an acknowledged range.").increment()
    }

    /// The Prometheus text exposition.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
