import Metrics
import Prometheus

/// The swift-metrics factory of both daemons: swift-prometheus's, into the daemon's own registry,
/// with help text and Prometheus' conventional names for the HTTP metrics Hummingbird's
/// `MetricsMiddleware` makes. swift-prometheus registers what it is handed without help and
/// under the label as given, so a counter would have no `_total` and a duration no `_seconds`,
/// and `promtool check metrics` (and a Prometheus operator's linter) would flag every scrape.
/// The daemons' own metrics are made in the registry directly, with their help.
struct DaemonMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let base: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        base = PrometheusMetricsFactory(registry: registry)
    }

    /// Hummingbird's labels, with the name and help each is exposed under.
    static let described: [String: (name: String, help: String)] = [
        "hb.requests": ("hb_requests_total", "HTTP requests answered, by route, method and status."),
        "hb.request.errors": ("hb_request_errors_total", "HTTP requests answered with an error, by route, method and error."),
        "http.server.request.duration": ("http_server_request_duration_seconds", "Time to answer an HTTP request, by route, method and status."),
        "http.server.active_requests": ("http_server_active_requests", "HTTP requests being answered now, by method."),
    ]

    /// The whole name in `metricName`, as the daemons' own metrics are made.
    static func descriptor(_ d: (name: String, help: String)) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: d.name, unitName: "", helpText: d.help)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let d = Self.described[label] else { return base.makeCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: Self.descriptor(d), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard let d = Self.described[label] else { return base.makeMeter(label: label, dimensions: dimensions) }
        return registry.makeGauge(descriptor: Self.descriptor(d), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let d = Self.described[label] else { return base.makeTimer(label: label, dimensions: dimensions) }
        return registry.makeDurationHistogram(descriptor: Self.descriptor(d), labels: dimensions, buckets: base.defaultDurationHistogramBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
