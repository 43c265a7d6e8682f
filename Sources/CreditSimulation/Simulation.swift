import CreditCore
import CreditData
import CreditHub
import CreditNode
import CreditStorage
import Foundation
import SyncProtocol
import SyncTransport

/// What a run did and found.
public struct SimulationReport: Sendable, Codable {
    public var seed: UInt64
    public var steps: Int
    /// Provider writes the nodes acknowledged (accepted, not duplicates).
    public var writesAcknowledged: Int
    /// Provider writes the nodes refused (not-home, revoked, validation, a failing disk).
    public var writesRefused: Int
    /// Faults injected, by kind (a `power-loss` is armed: the disk fails at one of its next syncs).
    public var faults: [String: Int]
    /// Daemons that crashed in the middle of an operation (an armed power loss that struck).
    public var crashesMidOperation: Int
    /// Unsynced writes the power losses undid.
    public var writesUndone: Int
    /// Hub log entries the hub's restores from backup took back (merged after the backup), which
    /// the nodes had to feed it again.
    public var hubEntriesForgotten: Int
    /// Acknowledged writes lost by node restores: written after the node's backup and not
    /// pushed before the restore (no longer counted as acknowledged).
    public var writesLostToRestores: Int
    /// Hostile messages sent, and how many the hub took in a way that changed a store (must be 0).
    public var hostileMessages: Int
    public var conflicts: Int
    public var refusedChanges: Int
    public var hubLogSize: UInt64
    public var records: Int
    /// Corrections and revocations, and how many met both Article 41 windows.
    public var corrections: Int
    public var correctionsMet: Int
    /// Credit subjects' cases the hub holds (objections, restorations, list removals), and their
    /// windows, closed and met (`Protocol/rights.md` §5).
    public var rightsCases: Int
    public var rightsWindowsClosed: Int
    public var rightsWindowsMet: Int
    /// Acknowledged writes not found at the end (must be 0).
    public var lost: Int
    /// Nodes whose state digest differs from the hub's at the end (must be 0).
    public var divergences: Int
    public var violations: [String]
    /// SHA-256 of the run's event trace: the same seed and configuration give the same trace.
    public var trace: String
    public var ok: Bool { violations.isEmpty }
}

/// The deterministic simulator (`creditsync simulate`): the hub and city nodes in one process on
/// their real stores, each store on a simulated disk with power-loss semantics, a virtual clock on
/// the working-day calendar, and a simulated network, all driven step by step from one seed.
///
/// A run has two phases. In the first, providers write at every node (new records, changed
/// resubmissions, corrections, revocations, and the same record written at two nodes at once)
/// while faults are injected; safety invariants are checked as it goes. Then the faults are
/// healed, every node syncs until nothing moves, and the end state is checked: nothing
/// acknowledged lost, every node on the hub's state digest, logs, receipts and heads agreeing,
/// `node verify` passing, every Article 41 window reported as the calendar says; and for credit
/// subjects' rights, every node holding every case as the hub decided it, nothing left pending,
/// and every objection and restoration window reported as the calendar says.
///
/// The daemons' code is the production code: only the disk, the network and the clock are the
/// simulator's. One task drives everything, so a seed replays exactly.
public final class Simulation: @unchecked Sendable {
    let config: SimulationConfig
    let directory: URL
    let ownsDirectory: Bool
    let reference: ReferenceData
    let clock: SimClock
    var workload: SimRandom
    var network: SimRandom
    var chaos: SimRandom
    private(set) var hub: SimHub!
    private(set) var nodes: [SimNode] = []
    let hubKeys: KeyRegistry
    var hostile: HostileNode?

    // The network.
    var held: [(node: String, request: SimRequest)] = []
    var partitioned: [String: Int] = [:]
    var hubDownSteps = 0
    var fullDisks: [Int32: Int] = [:]
    var healed = false
    /// The operator's last nightly backup of the hub, once one was taken (`hub-restore`).
    var hubBackup: String?
    /// Each node's last nightly backup and its log's size then (`node-restore`).
    var nodeBackups: [String: (file: String, logSize: UInt64)] = [:]
    /// The most of each node's log the hub held before it was restored (``restoreNode(_:)``).
    var hubHeldBeforeRestore: [String: UInt64] = [:]

    // What happened.
    var step = 0
    var trace = Hash32.sha256([])
    var faults: [String: Int] = [:]
    var acknowledged: [(node: String, sequence: UInt64, key: String)] = []
    var refusedWrites = 0
    var violations: [String] = []
    var hostileMessages = 0
    var crashesMidOperation = 0
    var writesUndone = 0
    var hubEntriesForgotten = 0
    var writesLostToRestores = 0
    /// Every record a provider wrote: its unit, index in that unit's synthetic series, item.
    var plans: [String: Plan] = [:]
    var planKeys: [String] = []
    var nextIndex: [String: Int] = [:]
    /// Rights cases the desks opened (a restoration's id prefixed `R`), with their record key.
    var rightsCases: [String: String] = [:]

    struct Plan {
        var unit: String
        var division: String
        var index: Int
        var recordId: String
        var variants = 0
    }

    /// The day every run starts: Monday 2026-11-02, 09:00 in China.
    static let start = Date(timeIntervalSince1970: 1_793_581_200)
    static let item = "administrative-punishment"
    /// The division whose synthetic regulator writes the same records through several nodes.
    static let sharedDivision = "360000"

    /// Runs `config` and reports; throws only when the run could not be set up or driven at all.
    public static func run(_ config: SimulationConfig) async throws -> SimulationReport {
        let simulation = try Simulation(config)
        defer { simulation.tearDown() }
        return try await simulation.run()
    }

    /// The shortest fault phase (in steps) of `config` that still fails, or `nil` when the full run passes.
    public static func shrink(_ config: SimulationConfig) async throws -> (steps: Int, report: SimulationReport)? {
        var failing = try await run(config)
        guard !failing.ok else { return nil }
        var low = 0, high = config.steps
        while low < high {
            let middle = (low + high) / 2
            var shorter = config
            shorter.stepLimit = middle
            let report = try await run(shorter)
            if report.ok { low = middle + 1 } else { high = middle; failing = report }
        }
        return (high, failing)
    }

    init(_ config: SimulationConfig) throws {
        self.config = config
        try SimulatedDisk.install()
        if let directory = config.directory {
            self.directory = directory
            ownsDirectory = false
        } else {
            let shm = URL(fileURLWithPath: "/dev/shm")
            let base = FileManager.default.isWritableFile(atPath: shm.path) ? shm : FileManager.default.temporaryDirectory
            directory = base.appendingPathComponent("creditsync-sim-\(getpid())-\(config.seed)-\(UUID().uuidString.prefix(8))")
            ownsDirectory = true
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        reference = try Self.sharedReference()
        clock = SimClock(Self.start)
        let root = SimRandom(seed: config.seed)
        workload = root.stream("workload")
        network = root.stream("network")
        chaos = root.stream("faults")
        var keys = root.stream("keys")
        let hubKey = try SigningKey(seed: keys.bytes32())
        var registry = KeyRegistry()
        try registry.enroll(hubKey.publicKey, for: "360000")
        hubKeys = registry
        hub = try SimHub(directory: directory.appendingPathComponent("hub"), key: hubKey, reference: reference, clock: clock)
        let cities = SyntheticRecords.cities.prefix(max(1, min(config.nodes, SyntheticRecords.cities.count)))
        for city in cities {
            let node = try SimNode(id: city.code, directory: directory.appendingPathComponent(city.code), key: SigningKey(seed: keys.bytes32()),
                                   reference: reference, clock: clock)
            try hub.store.addNode(id: city.code, name: city.name, key: node.key.publicKey, at: clock.now)
            // The shared provincial unit writes through every city's node (Protocol/merge.md §1,
            // a widened area): the races between nodes on one record need it.
            try hub.store.changeArea(node: city.code, add: [String(Self.sharedDivision.prefix(4))], remove: [], at: clock.now)
            try node.open(transport: SimTransport(node: city.code, simulation: self), hubKeys: hubKeys)
            for division in [city.code, Self.sharedDivision] {
                let unit = SyntheticRecords(division: division).regulatorCode
                let made = try node.store.addCredential(name: "regulator \(division)", unit: try UnifiedSocialCreditCode.parse(unit), writeItems: nil, readScope: .all, at: clock.now)
                node.tokens[unit] = made.token
            }
            nodes.append(node)
        }
        if config.lyingDisks {
            for disk in [hub.disk] + nodes.map(\.disk) { SimulatedDisk.setLying(disk, true) }
        }
        if config.faults.contains(.hostile) {
            let key = try SigningKey(seed: keys.bytes32())
            try hub.store.addNode(id: HostileNode.id, name: "hostile", key: key.publicKey, at: clock.now)
            // A compromised node whose area the operator widened to Nanchang's units: its attacks
            // on those records meet the home rule (not-home), on other cities' the area (not-in-area).
            try hub.store.changeArea(node: HostileNode.id, add: ["3601"], remove: [], at: clock.now)
            hostile = HostileNode(key: key)
        }
    }

    private static let referenceCache = ReferenceCache()

    static func sharedReference() throws -> ReferenceData { try referenceCache.get() }

    func tearDown() {
        for node in nodes {
            try? node.store?.close()
            SimulatedDisk.remove(node.disk)
        }
        try? hub.store?.close()
        SimulatedDisk.remove(hub.disk)
        if ownsDirectory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: - The run

    func run() async throws -> SimulationReport {
        record("start seed=\(config.seed) nodes=\(nodes.count) days=\(config.days) faults=\(config.faults.map(\.rawValue).sorted())"
               + (config.lyingDisks ? " lying disks" : ""))
        let steps = config.steps
        do {
            while step < steps {
                step += 1
                clock.advance(by: Double(workload.int(1..<90)))
                if step % config.stepsPerDay == 0 { try nextWorkingDay() }
                try await act()
                tickFaults()
                if hub.store == nil { throw SimulationAborted(description: "the hub did not restart after a crash") }
            }
            try await heal()
            try await settle()
            try await checkEnd()
        } catch let aborted as SimulationAborted {
            violate("aborted: \(aborted)")
            return SimulationReport(seed: config.seed, steps: step, writesAcknowledged: acknowledged.count, writesRefused: refusedWrites,
                                    faults: faults, crashesMidOperation: crashesMidOperation, writesUndone: writesUndone,
                                    hubEntriesForgotten: hubEntriesForgotten, writesLostToRestores: writesLostToRestores, hostileMessages: hostileMessages, conflicts: 0, refusedChanges: 0, hubLogSize: 0, records: 0,
                                    corrections: 0, correctionsMet: 0, rightsCases: 0, rightsWindowsClosed: 0, rightsWindowsMet: 0, lost: 0, divergences: 0, violations: violations, trace: trace.hex)
        }
        return try report()
    }

    /// One step: a provider write, a sync, or a fault, chosen by weight.
    func act() async throws {
        let roll = workload.int(0..<100)
        switch roll {
        case 0..<28: try await write(at: workload.pick(nodes))
        case 28..<32: try await race()
        case 32..<38: try exerciseRight(at: workload.pick(nodes))
        case 38..<52: try await push(workload.pick(nodes))
        case 52..<68: try await pull(workload.pick(nodes))
        default: try await inject(roll)
        }
    }

    // MARK: - Time and windows

    /// Moves the clock to 09:00 of the next working day and checks every open window.
    func nextWorkingDay() throws {
        var day = ChinaTime.date(of: clock.now).adding(days: 1)
        while !reference.calendar.isWorkingDay(day) { day = day.adding(days: 1) }
        clock.set(ChinaTime.startOfDay(day).addingTimeInterval(9 * 3600))
        record("day \(day)")
        try checkOpenWindows(today: day)
        try takeBackups()
    }

    /// The last day of a window of `days` working days after `instant`, counted here, apart
    /// from the hub's own calendar code.
    func due(after instant: Date, workingDays days: Int) -> CivilDate {
        var day = ChinaTime.date(of: instant)
        var counted = 0
        while counted < days {
            day = day.adding(days: 1)
            if reference.calendar.isWorkingDay(day) { counted += 1 }
        }
        return day
    }

    /// At 09:00 of a working day: an open window due today must be shown at risk, one due
    /// before today breached.
    func checkOpenWindows(today: CivilDate) throws {
        for c in try hub.service.correctionStatuses() where c.row.completedAt == nil {
            let due = due(after: c.row.receivedAt, workingDays: 4)
            if due == today, c.fixCopiesState != .atRisk {
                violate("window: correction at \(c.row.hubPosition) is due today (\(due)) but shown \(c.fixCopiesState.rawValue)")
            } else if due < today, c.fixCopiesState != .breached {
                violate("window: correction at \(c.row.hubPosition) was due \(due) but is shown \(c.fixCopiesState.rawValue) on \(today)")
            }
        }
        try checkOpenRightsWindows()
    }

    // MARK: - Bookkeeping

    func record(_ event: String) {
        // The run's folder is named after the process and a random suffix: an error message that
        // names a file in it would make the same seed hash differently from run to run.
        let event = event.replacingOccurrences(of: directory.path, with: "<run>")
        if config.printTrace { print("  \(step) \(event)") }
        trace = Hash32.sha256(trace.bytes + Array("\(step) \(event)\n".utf8))
    }

    func count(_ fault: FaultKind) { faults[fault.rawValue, default: 0] += 1 }

    func violate(_ message: String) {
        violations.append("step \(step): \(message)")
        record("VIOLATION \(message)")
    }

    func node(_ id: String) -> SimNode? { nodes.first { $0.id == id } }

    func report() throws -> SimulationReport {
        let counts = try hub.store.counts()
        let statuses = try hub.service.correctionStatuses()
        let cases = try hub.store.rightsCases(receivedFrom: nil, to: nil)
        let windows = cases.flatMap { hub.service.rightsWindows($0, at: clock.now) }.filter { $0.window.completedAt != nil }
        return SimulationReport(
            seed: config.seed, steps: step, writesAcknowledged: acknowledged.count, writesRefused: refusedWrites, faults: faults,
            crashesMidOperation: crashesMidOperation, writesUndone: writesUndone, hubEntriesForgotten: hubEntriesForgotten,
            writesLostToRestores: writesLostToRestores,
            hostileMessages: hostileMessages, conflicts: counts.conflicts, refusedChanges: try hub.store.refusals(limit: 1_000_000).count,
            hubLogSize: try hub.store.hubHead().size, records: counts.records, corrections: statuses.count,
            correctionsMet: statuses.filter { $0.reachHubState == .met && $0.fixCopiesState == .met }.count,
            rightsCases: cases.count, rightsWindowsClosed: windows.count, rightsWindowsMet: windows.filter { $0.state == .met }.count,
            lost: violations.filter { $0.contains("lost:") }.count, divergences: violations.filter { $0.contains("diverged:") }.count,
            violations: violations, trace: trace.hex)
    }
}

/// The bundled reference data, loaded once per process.
final class ReferenceCache: @unchecked Sendable {
    private let lock = NSLock()
    private var data: ReferenceData?

    func get() throws -> ReferenceData {
        lock.lock()
        defer { lock.unlock() }
        if let data { return data }
        let loaded = try ReferenceData.load()
        data = loaded
        return loaded
    }
}
