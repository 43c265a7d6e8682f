import AsyncHTTPClient
import CreditCore
import CreditData
import CreditDeploy
import CreditHub
import CreditStorage
import Foundation
import NIOCore
import Synchronization

/// `creditsync-bench e2e`: the whole path, from a provider's write at node A to every node,
/// with the daemons as processes of a generated deployment on loopback; and with
/// `--peer-postgres`, the same rows through PostgreSQL logical replication in the same run.
struct E2EOptions {
    var records = 200_000
    var nodes = 3
    var batch = 1_000
    var uploaders = 4
    var peerPostgres = false
    /// The fixed-rate phase: records per second written at node A, for `lagSeconds`.
    var lagRate = 1_000
    var lagSeconds = 20
    /// How many nodes the fixed-rate phase writes at, in turn, a tenth of a second each: A and
    /// others spread over the province, never the last node, which is read.
    var writers = 1
    /// Records written while node C is stopped, then timed as it catches up.
    var catchUp = 50_000
    var basePort = 18_100
    var keep = false
    /// How often the hub's status is read to time each hop. Each read is the operators' full
    /// snapshot, which counts every node's lag and reads the age of the next 10,000 changes each
    /// node waits for: at 50 ms (the default until 2026-11-30) it cost the hub a third of its
    /// CPU while a node caught up, and 6 % during the bulk load, so the hub's figures included
    /// the bench's polling. A dashboard reads it every few seconds; 250 ms times a hop of tens
    /// of seconds to within 1 %.
    var pollMilliseconds = 250

    init(_ arguments: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw BenchUsage("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        func int() throws -> Int {
            let text = try value()
            guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n >= 0 else { throw BenchUsage("not a count: \(text)") }
            return n
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--records": records = try int()
            case "--nodes": nodes = try int()
            case "--batch": batch = max(1, try int())
            case "--uploaders": uploaders = max(1, try int())
            case "--peer-postgres": peerPostgres = true
            case "--lag-rate": lagRate = try int()
            case "--lag-seconds": lagSeconds = try int()
            case "--writers": writers = max(1, try int())
            case "--catch-up": catchUp = try int()
            case "--base-port": basePort = try int()
            case "--keep": keep = true
            case "--poll-ms": pollMilliseconds = max(1, try int())
            default: throw BenchUsage("unknown option \(arguments[i])")
            }
            i += 1
        }
        guard (2...111).contains(nodes) else { throw BenchUsage("--nodes is 2 to 111") }
    }
}

struct BenchUsage: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What the kernel says a process used: CPU seconds, bytes it caused to be written to storage,
/// and its peak resident set.
struct ProcessUsage {
    var cpuSeconds: Double
    var writeBytes: UInt64
    var peakRSSKiB: UInt64

    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func of(_ pid: Int32) -> ProcessUsage {
        func read(_ name: String) -> String { (try? String(contentsOfFile: "/proc/\(pid)/\(name)", encoding: .utf8)) ?? "" }
        // stat: fields after the command's closing parenthesis; utime and stime are the 12th and 13th of them.
        let stat = read("stat")
        let fields = stat.split(separator: ")").last.map { $0.split(separator: " ") } ?? []
        let cpu = fields.count > 12 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : 0
        let write = read("io").split(separator: "\n").first { $0.hasPrefix("write_bytes:") }
            .flatMap { UInt64($0.split(separator: " ").last ?? "") } ?? 0
        let rss = read("status").split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { UInt64($0.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") } ?? 0
        return ProcessUsage(cpuSeconds: cpu / ticks, writeBytes: write, peakRSSKiB: rss)
    }

    /// Each named process's usage now.
    static func of(_ processes: [(String, Int32)]) -> [String: ProcessUsage] {
        Dictionary(uniqueKeysWithValues: processes.map { ($0.0, of($0.1)) })
    }

    static func - (a: ProcessUsage, b: ProcessUsage) -> ProcessUsage {
        ProcessUsage(cpuSeconds: a.cpuSeconds - b.cpuSeconds, writeBytes: a.writeBytes &- b.writeBytes, peakRSSKiB: a.peakRSSKiB)
    }
}

/// The hub's status, as much of it as the bench reads.
struct BenchStatus: Decodable {
    struct Node: Decodable { var id: String; var fanOutApplied: UInt64; var lagChanges: Int; var acknowledged: UInt64 }
    var hubLogSize: UInt64
    var nodes: [Node]
}

func e2eBenchmark(_ options: E2EOptions) async throws {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("creditsync")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw BenchUsage("no creditsync binary beside the bench: build it in the same configuration (swift build -c release --product creditsync)")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("creditsync-e2e-\(UUID().uuidString.prefix(6))", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { if !options.keep { try? FileManager.default.removeItem(at: dir) } }
    let sites = try Deployment.jiangxiSites(counties: options.nodes > 11).prefix(options.nodes).map { (id: $0.id, name: $0.name) }
    let deployment = try Deployment.generate(in: dir.appendingPathComponent("province"), sites: Array(sites), basePort: options.basePort,
                                             pushIdleMilliseconds: 20)
    let federation = Federation(deployment: deployment, executable: executable)
    try federation.prepare()
    try federation.start()
    defer { federation.stop() }
    try await federation.waitUntilHealthy()
    let a = sites[0].id, c = sites[sites.count - 1].id
    let others = sites.dropFirst().map(\.id)
    print("end to end: hub + \(options.nodes) nodes as processes, \(options.records) records posted to node \(a) "
          + "by \(options.uploaders) uploaders in batches of \(options.batch)")

    // The records, as the uploaders send them, made before the clock starts.
    var generator = SyntheticRecords(division: a)
    let decided = CivilDate(year: 2026, month: 6, day: 1)!
    let encoder = JSONEncoder()
    func bodies(_ range: Range<Int>) -> [ByteBuffer] {
        stride(from: range.lowerBound, to: range.upperBound, by: options.batch).map { start in
            ByteBuffer(data: try! encoder.encode((start..<min(start + options.batch, range.upperBound)).map { generator.punishment($0, decidedOn: decided) }))
        }
    }
    let load = bodies(0..<options.records)
    let averageRecord = load.reduce(0) { $0 + $1.readableBytes } / max(1, options.records)
    print("  records average \(averageRecord) bytes of JSON")

    let client = HTTPClient.shared
    let nodeURL = { (id: String) in deployment.nodeURL(deployment.nodes.first { $0.id == id }!) }
    let token = federation.tokens[a]!
    func status() async throws -> BenchStatus {
        let response = try await client.execute(HTTPClientRequest(url: deployment.hubOperatorURL + "/v1/status"), timeout: .seconds(30))
        return try JSONDecoder().decode(BenchStatus.self, from: Data(buffer: try await response.body.collect(upTo: 64 << 20)))
    }
    let loader = Loader(client: client, url: nodeURL(a) + "/v1/records", token: token)
    func upload(_ batches: [ByteBuffer]) async throws {
        let next = Shared(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<options.uploaders {
                group.addTask {
                    while true {
                        let i = next.value.withLock { n -> Int in defer { n += 1 }; return n }
                        guard i < batches.count else { return }
                        try await loader.post(batches[i])
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    func wait(until done: (BenchStatus) -> Bool) async throws -> Date {
        while true {
            if done(try await status()) { return Date() }
            try await Task.sleep(for: .milliseconds(options.pollMilliseconds))
        }
    }
    // Each daemon's process as it runs now (a node restarted for the catch-up has a new one).
    func daemons() -> [(String, Int32)] {
        [("hub", federation.hubProcess!.processIdentifier)] + sites.map { ($0.id, federation.nodeProcesses[$0.id]!.processIdentifier) }
    }
    func store(of daemon: String) -> UInt64 {
        storeBytes(daemon == "hub" ? deployment.directory.appendingPathComponent("hub") : deployment.nodeDirectory(daemon))
    }
    let pids = daemons()
    let before = ProcessUsage.of(pids)
    let selfBefore = ProcessUsage.of(getpid())

    // The bulk load: every hop timed from the first request.
    let start = Date()
    let size0 = try await status().hubLogSize
    try await upload(load)
    let acknowledged = Date()
    let selfAfter = ProcessUsage.of(getpid())
    let target = size0 + UInt64(options.records)
    let atHub = try await wait { $0.hubLogSize >= target }
    let everywhere = try await wait { s in s.nodes.filter { others.contains($0.id) }.allSatisfy { $0.lagChanges == 0 && $0.fanOutApplied >= target } }
    let after = ProcessUsage.of(pids)
    let n = Double(options.records)
    func rate(_ end: Date) -> String { String(format: "%8.1f s  %9.0f records/s", end.timeIntervalSince(start), n / end.timeIntervalSince(start)) }
    print("  hop                                   time       rate")
    print("  node \(a) acknowledged all            \(rate(acknowledged))")
    print("  hub holds all                         \(rate(atHub))")
    print("  every other node applied all          \(rate(everywhere))")
    print(String(format: "  the loader itself: %.1f µs CPU per record", (selfAfter.cpuSeconds - selfBefore.cpuSeconds) / n * 1e6))
    print("  daemon   CPU µs/record   written B/record   store B/record   peak RSS MB")
    for (name, _) in pids {
        let used = after[name]! - before[name]!
        let store = store(of: name)
        print(String(format: "  %@ %13.1f %18.0f %16.0f %13.0f", padded(name, 8), used.cpuSeconds / n * 1e6, Double(used.writeBytes) / n,
                     Double(store) / n, Double(used.peakRSSKiB) / 1024))
    }
    let endToEnd = n / everywhere.timeIntervalSince(start)

    // Visibility at a fixed rate: a write at a writer node until the record is readable at the
    // last node. The ticks go to the writers in turn: with `--writers 10` the province's 100
    // records a second are written at ten nodes, as providers across it would write them.
    if options.lagSeconds > 0, options.lagRate > 0 {
        let perTick = max(1, options.lagRate / 10)
        // Spread over the province (A first), not the first few counties of one city.
        let candidates = sites.map(\.id).filter { $0 != c }
        let writers = (0..<min(options.writers, candidates.count)).map { candidates[$0 * candidates.count / min(options.writers, candidates.count)] }
        var writerGenerators = Dictionary(uniqueKeysWithValues: writers.map { ($0, SyntheticRecords(division: $0)) })
        writerGenerators[a] = generator
        struct Tick { var writer: Int; var body: ByteBuffer; var unit: String; var last: String }
        let ticks = (0..<(options.lagSeconds * 10)).map { tick -> Tick in
            let w = tick % writers.count
            let first = options.records + tick * perTick
            let records = (first..<first + perTick).map { writerGenerators[writers[w]]!.punishment($0, decidedOn: decided) }
            return Tick(writer: w, body: ByteBuffer(data: try! encoder.encode(records)),
                        unit: SyntheticRecords(division: writers[w]).regulatorCode, last: records.last!.recordId)
        }
        let loaders = writers.map { Loader(client: client, url: nodeURL($0) + "/v1/records", token: federation.tokens[$0]!) }
        let readToken = federation.tokens[c]!
        let readURL = nodeURL(c)
        // When each tick's batch was sent; the probe reads a tick's last record only once it is.
        let sentAt = Shared<[Date?]>(Array(repeating: nil, count: ticks.count))
        let posted = ChangeSignal()
        // What the daemons use while the rate runs, beside its latencies: CPU is the steadier
        // figure of the two on a saturated machine, and it tells the hub's share, the writers'
        // and the receiving nodes' apart.
        let phaseBefore = ProcessUsage.of(daemons())
        let clock = ContinuousClock(), begin = clock.now
        var latencies: [Double] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (tick, t) in ticks.enumerated() {
                group.addTask {
                    // One batch every 100 ms, on schedule whatever the answers' times.
                    try await Task.sleep(until: begin + .milliseconds(100 * tick), clock: clock)
                    let sent = Date()
                    sentAt.value.withLock { $0[tick] = sent }
                    posted.signal()
                    try await loaders[t.writer].post(t.body)
                }
            }
            // One probe, one request at a time. Each writer's records reach C in the order that
            // writer wrote them (the hub keeps each node's order), so the probe asks, writer by
            // writer in turn, for the oldest record of each not yet seen, and waits 5 ms only
            // after a round that found none: a record is timed at most one round (a request per
            // writer) after it became readable. A probe per batch in flight, each polling, had
            // the node under measurement answering (and auditing, Article 21) thousands of reads
            // a second, and timed that load as much as the fan-out.
            var pending = (0..<writers.count).map { w in ticks.indices.filter { ticks[$0].writer == w }[...] }
            while pending.contains(where: { !$0.isEmpty }) {
                let generation = posted.generation
                var asked = false, found = false
                for w in pending.indices {
                    guard let tick = pending[w].first, let sent = sentAt.value.withLock({ $0[tick] }) else { continue }
                    asked = true
                    var request = HTTPClientRequest(url: readURL + "/v1/providers/\(ticks[tick].unit)/records/administrative-punishment/\(ticks[tick].last)?purpose=bench")
                    request.headers.add(name: "Authorization", value: "Bearer \(readToken)")
                    let response = try await client.execute(request, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    if response.status == .ok {
                        latencies.append(Date().timeIntervalSince(sent))
                        pending[w].removeFirst()
                        found = true
                    }
                }
                if !asked {
                    await posted.wait(after: generation, timeout: .seconds(1))
                } else if !found {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            try await group.waitForAll()
        }
        let phase = clock.now - begin
        let phaseAfter = ProcessUsage.of(daemons())
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let at = writers.count == 1 ? a : "\(writers.count) nodes (\(writers.first!)…\(writers.last!))"
        print(String(format: "  %d records/s for %d s at %@, visible at %@: p50 %.3f s, p99 %.3f s, max %.3f s (%d samples)",
                     options.lagRate, options.lagSeconds, at as NSString, c as NSString, percentile(0.5), percentile(0.99), sorted.last ?? 0, sorted.count))
        printPhaseUsage(before: phaseBefore, after: phaseAfter, seconds: seconds(phase),
                        writers: Set(writers), recordsPerSecond: Double(perTick * 10))
    }

    // Catch-up: node C stopped while A takes `catchUp` records, then timed until it has them all.
    if options.catchUp > 0 {
        federation.nodeProcesses[c]?.terminate()
        federation.nodeProcesses[c]?.waitWithoutSpinning()
        let first = options.records + options.lagSeconds * max(1, options.lagRate / 10) * 10
        let size = try await status().hubLogSize + UInt64(options.catchUp)
        try await upload(bodies(first..<first + options.catchUp))
        _ = try await wait { $0.hubLogSize >= size }
        let restart = Date()
        let hubBefore = ProcessUsage.of(federation.hubProcess!.processIdentifier)
        try federation.startNode(c)
        _ = try await wait { s in s.nodes.first { $0.id == c }.map { $0.fanOutApplied >= size && $0.lagChanges == 0 } ?? false }
        let took = Date().timeIntervalSince(restart)
        let hubCPU = ProcessUsage.of(federation.hubProcess!.processIdentifier).cpuSeconds - hubBefore.cpuSeconds
        let nodeCPU = ProcessUsage.of(federation.nodeProcesses[c]!.processIdentifier).cpuSeconds
        print(String(format: "  catch-up of node %@ %d changes behind: %.1f s (%.0f changes/s, restart included); CPU µs per change: hub %.0f, node %.0f",
                     c as NSString, options.catchUp, took, Double(options.catchUp) / took,
                     hubCPU * 1e6 / Double(options.catchUp), nodeCPU * 1e6 / Double(options.catchUp)))
        // Memory against the store's size: each daemon's peak resident set over its whole life
        // (VmHWM), beside what its store then holds, so a run with a large catch-up shows the
        // bound where the stores are largest, not a sample taken once.
        let held = UInt64(first + options.catchUp)
        print("  after the catch-up    store GB   store B/change   peak RSS MB")
        for (name, pid) in daemons() {
            let store = store(of: name)
            print(String(format: "  %@ %9.2f %16.0f %13.0f", padded(name, 20), Double(store) / 1e9, Double(store) / Double(held),
                         Double(ProcessUsage.of(pid).peakRSSKiB) / 1024))
        }
    }

    if options.peerPostgres {
        let peer = try await PostgresPeer.measure(rows: options.records, batch: options.batch, clients: options.uploaders,
                                                  directory: dir.appendingPathComponent("postgres"),
                                                  basePort: options.basePort + options.nodes + 10)
        print(String(format: "  PostgreSQL 15 logical replication, same rows: %.0f rows/s end to end (%.1f s); creditsync/PostgreSQL = %.2f",
                     peer, n / peer, endToEnd / peer))
    }
}

/// Prints the CPU the hub, the writing nodes and the receiving nodes used over a fixed-rate phase
/// of `seconds`, per second of it, and what the receiving nodes spent per record they applied
/// (each applies every record written elsewhere).
func printPhaseUsage(before: [String: ProcessUsage], after: [String: ProcessUsage], seconds: Double,
                     writers: Set<String>, recordsPerSecond: Double) {
    let used = Dictionary(uniqueKeysWithValues: after.map { ($0.key, $0.value - before[$0.key]!) })
    /// CPU ms per second of the phase, summed over `names`.
    func cpu(_ names: some Sequence<String>) -> Double { names.reduce(0) { $0 + used[$1]!.cpuSeconds } / seconds * 1e3 }
    let receivers = used.keys.filter { $0 != "hub" && !writers.contains($0) }
    let perReceiver = cpu(receivers) / Double(max(1, receivers.count))
    let written = used.values.reduce(0) { $0 + Double($1.writeBytes) }
    print(String(format: "  CPU over those %.0f s, ms per second: hub %.0f, %d writing node(s) %.0f, %d receiving nodes %.0f "
                 + "(%.1f each, %.0f µs per record applied); %.0f in all; written %.1f MB/s in all",
                 seconds, cpu(["hub"]), writers.count, cpu(writers), receivers.count, cpu(receivers), perReceiver,
                 perReceiver / recordsPerSecond * 1e3, cpu(used.keys), written / seconds / 1e6))
}

/// A value the uploaders share (a `Mutex` cannot be captured by the tasks themselves).
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}

/// Posts batches of records to a node as its provider.
struct Loader: Sendable {
    let client: HTTPClient
    let url: String
    let token: String

    func post(_ body: ByteBuffer) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        let response = try await client.execute(request, timeout: .seconds(300))
        _ = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw BenchUsage("\(url) answered \(response.status.code)") }
    }
}

/// `text` padded with spaces to `width`: Foundation on Linux ignores the width of `%@`.
func padded(_ text: String, _ width: Int) -> NSString {
    text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) as NSString
}

/// The bytes of every file under `directory`.
func storeBytes(_ directory: URL) -> UInt64 {
    guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey]) else { return 0 }
    var total: UInt64 = 0
    for case let url as URL in files {
        total += UInt64((try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
    }
    return total
}
