import ArgumentParser
import CreditSimulation
import Foundation

/// `creditsync simulate`: the deterministic simulator (README "Simulation").
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub and city nodes in one process under injected faults and check the invariants.",
        discussion: """
        Every run follows from its seed: the same seed and options replay it exactly (its trace hash \
        says so). A failing run prints its seed and the shortest fault phase that still fails. \
        --soak runs --seeds seeds from --seed on and stops at the first failure.
        """)

    @Option(help: "City nodes (1–11).") var nodes = 4
    @Option(help: "Working days of workload and faults.") var days = 3
    @Option(help: "Steps per working day.") var stepsPerDay = 40
    @Option(help: "The seed (the first one with --soak).") var seed: UInt64 = 1
    @Option(help: "Faults to inject, comma-separated (\(FaultKind.allCases.map(\.rawValue).joined(separator: ",")); 'all' or 'none').")
    var faults = "all"
    @Flag(help: "Run many seeds.") var soak = false
    @Option(help: "Seeds to run with --soak.") var seeds = 1000
    @Flag(help: "Print each run's report as JSON.") var json = false
    @Flag(help: "Print every event of the run (to study a failing seed).") var trace = false
    @Flag(help: "Self-test: disks that acknowledge syncs without making writes durable (the run must fail).") var lyingDisks = false
    @Option(help: "Stop the fault phase after this many steps (replaying a shrunk failure).") var stepLimit: Int?

    func run() async throws {
        let kinds: Set<FaultKind>
        switch faults {
        case "all": kinds = Set(FaultKind.allCases)
        case "none": kinds = []
        default:
            kinds = Set(try faults.split(separator: ",").map { name in
                guard let kind = FaultKind(rawValue: String(name)) else { throw ValidationError("unknown fault '\(name)'") }
                return kind
            })
        }
        guard (1...11).contains(nodes) else { throw ValidationError("--nodes takes 1 to 11") }
        let count = soak ? seeds : 1
        var totals = SoakTotals()
        let started = ContinuousClock.now
        for seed in seed..<seed + UInt64(count) {
            var config = SimulationConfig(seed: seed, nodes: nodes, days: days, stepsPerDay: stepsPerDay, faults: kinds, stepLimit: stepLimit)
            config.printTrace = trace
            config.lyingDisks = lyingDisks
            let report = try await Simulation.run(config)
            totals.add(report)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else if !soak {
                print(Self.describe(report))
            }
            guard report.ok else {
                print("seed \(seed) FAILED:")
                for v in report.violations.prefix(20) { print("  \(v)") }
                config.printTrace = false
                if let shrunk = try await Simulation.shrink(config) {
                    print("the shortest failing fault phase: \(shrunk.steps) steps; replay with "
                          + "`creditsync simulate --seed \(seed) --nodes \(nodes) --days \(days) --steps-per-day \(stepsPerDay) --faults \(faults) --step-limit \(shrunk.steps) --trace`")
                    for v in shrunk.report.violations.prefix(5) { print("  \(v)") }
                }
                throw ExitCode(1)
            }
        }
        if soak {
            print(totals.summary(seconds: (ContinuousClock.now - started).components.seconds))
        }
    }

    static func describe(_ r: SimulationReport) -> String {
        """
        seed \(r.seed): \(r.ok ? "ok" : "FAILED") in \(r.steps) steps; trace \(r.trace.prefix(16))
          writes acknowledged \(r.writesAcknowledged), refused \(r.writesRefused); lost \(r.lost); divergences \(r.divergences)
          hub log \(r.hubLogSize), records \(r.records), conflicts \(r.conflicts), refused changes \(r.refusedChanges)
          corrections \(r.corrections) (both windows met: \(r.correctionsMet)); hostile messages \(r.hostileMessages)
          rights cases \(r.rightsCases) (windows closed \(r.rightsWindowsClosed), met \(r.rightsWindowsMet))
          faults: \(r.faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
          crashes mid-operation \(r.crashesMidOperation), unsynced writes undone by power loss \(r.writesUndone), \
        hub log entries forgotten by restores \(r.hubEntriesForgotten), unpushed writes lost to node restores \(r.writesLostToRestores)
        """
    }
}

/// What a soak adds up.
struct SoakTotals {
    var runs = 0, acknowledged = 0, lost = 0, divergences = 0, violations = 0, conflicts = 0, refused = 0, corrections = 0, hostile = 0
    var midOperation = 0, undone = 0, forgotten = 0, lostToRestores = 0, rightsCases = 0, rightsWindowsClosed = 0, rightsWindowsMet = 0
    var faults: [String: Int] = [:]

    mutating func add(_ r: SimulationReport) {
        runs += 1
        acknowledged += r.writesAcknowledged
        lost += r.lost
        divergences += r.divergences
        violations += r.violations.count
        conflicts += r.conflicts
        refused += r.refusedChanges
        corrections += r.corrections
        hostile += r.hostileMessages
        midOperation += r.crashesMidOperation
        undone += r.writesUndone
        forgotten += r.hubEntriesForgotten
        lostToRestores += r.writesLostToRestores
        rightsCases += r.rightsCases
        rightsWindowsClosed += r.rightsWindowsClosed
        rightsWindowsMet += r.rightsWindowsMet
        for (k, v) in r.faults { faults[k, default: 0] += v }
    }

    func summary(seconds: Int64) -> String {
        """
        \(runs) seeds in \(seconds) s: writes acknowledged \(acknowledged), lost \(lost), divergences \(divergences), violations \(violations)
          conflicts \(conflicts), refused changes \(refused), corrections \(corrections), hostile messages \(hostile)
          rights cases \(rightsCases) (windows closed \(rightsWindowsClosed), met \(rightsWindowsMet))
          faults injected: \(faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
          crashes mid-operation \(midOperation), unsynced writes undone by power loss \(undone), \
        hub log entries forgotten by restores \(forgotten), unpushed writes lost to node restores \(lostToRestores)
        """
    }
}
