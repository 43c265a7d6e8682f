import CreditSimulation
import Foundation
import Testing

/// The deterministic simulator on a fixed set of seeds with every fault kind on (issue 12):
/// `creditsync simulate --soak` runs thousands; CI runs these.
@Suite(.serialized) struct SimulationTests {
    static let seeds: [UInt64] = Array(1...12)

    @Test(arguments: seeds)
    func everyInvariantHoldsUnderEveryFault(seed: UInt64) async throws {
        let report = try await Simulation.run(SimulationConfig(seed: seed))
        #expect(report.violations.isEmpty, "seed \(seed): \(report.violations.prefix(5))")
        #expect(report.lost == 0 && report.divergences == 0)
        #expect(report.writesAcknowledged > 0)
    }

    @Test func aSeedReplaysExactly() async throws {
        let config = SimulationConfig(seed: 4242, nodes: 3, days: 2)
        let first = try await Simulation.run(config)
        let second = try await Simulation.run(config)
        #expect(first.trace == second.trace)
        #expect(first.writesAcknowledged == second.writesAcknowledged && first.faults == second.faults)
        let other = try await Simulation.run(SimulationConfig(seed: 4243, nodes: 3, days: 2))
        #expect(other.trace != first.trace)
    }

    @Test func everyFaultKindIsInjectedOverTheFixedSeeds() async throws {
        var kinds = Set<String>()
        var cases = 0, closedWindows = 0
        for seed in Self.seeds.prefix(6) {
            let report = try await Simulation.run(SimulationConfig(seed: seed))
            kinds.formUnion(report.faults.keys)
            cases += report.rightsCases
            closedWindows += report.rightsWindowsClosed
        }
        #expect(kinds == Set(FaultKind.allCases.map(\.rawValue)))
        // The desks' objections and restorations are exercised too, with their windows checked.
        #expect(cases > 0 && closedWindows > 0, "\(cases) cases, \(closedWindows) closed windows")
    }

    /// A hub restored from the operator's nightly backup forgets what it merged since: every node
    /// must notice and feed it again, and every invariant holds at the end. The restores must
    /// have taken something back, or they tested nothing.
    @Test func aHubRestoredFromItsBackupIsFedAgain() async throws {
        var restores = 0, forgotten = 0
        for seed in Self.seeds.prefix(4) {
            let report = try await Simulation.run(SimulationConfig(seed: seed, days: 6, faults: [.hubRestore, .crash, .loss, .partition]))
            #expect(report.violations.isEmpty, "seed \(seed): \(report.violations.prefix(5))")
            restores += report.faults[FaultKind.hubRestore.rawValue] ?? 0
            forgotten += report.hubEntriesForgotten
        }
        #expect(restores > 0 && forgotten > 0, "\(restores) restores took back \(forgotten) hub log entries")
    }

    /// The checker can fail: on disks that acknowledge syncs without making writes durable,
    /// crashes lose acknowledged writes, the run says so, and shrinking finds a shorter run
    /// that still fails.
    @Test func aRunOnLyingDisksFailsAndShrinks() async throws {
        var config = SimulationConfig(seed: 1, nodes: 3, days: 2, faults: [.crash, .powerLoss])
        config.lyingDisks = true
        let shrunk = try #require(try await Simulation.shrink(config), "crashes on lying disks lost nothing")
        #expect(shrunk.steps < config.steps)
        #expect(!shrunk.report.violations.isEmpty)
        #expect(shrunk.report.violations.contains { $0.contains("lost:") || $0.contains("diverged:") })
    }
}
