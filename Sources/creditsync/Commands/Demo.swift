import ArgumentParser
import CreditCore
import CreditData
import CreditDeploy
import CreditHub
import Foundation

/// Set by the signal handler when Ctrl-C (or SIGTERM) asks the demo to stop.
nonisolated(unsafe) var demoInterrupted: sig_atomic_t = 0

/// `creditsync demo`: the README's main job — the provincial federation on one machine.
///
/// A hub and Jiangxi's 11 districted-city nodes start as separate processes on loopback, each
/// with its own SQLite store under one data folder; keys are generated and enrolled; each city's
/// regulator writes synthetic records; some are corrected and revoked; the summary shows them
/// reaching the hub and every node, the lag table and the Article 41 windows. Without `--check`
/// the federation keeps running with the dashboard's URL printed until Ctrl-C.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring up a hub and Jiangxi's 11 city nodes on loopback, write, correct, converge.")

    @Option(help: "The data folder (replaced if it exists).")
    var dir = "demo-data"

    @Option(help: "The hub's port; the nodes take the next 11.")
    var port = 8100

    @Option(help: "Records each city's regulator writes.")
    var records = 200

    @Flag(help: "Verify convergence, print the figures and exit: 0 when every node's view equals the hub's.")
    var check = false

    func run() async throws {
        let started = Date()
        let root = URL(fileURLWithPath: dir, isDirectory: true).standardizedFileURL
        try? FileManager.default.removeItem(at: root)
        let sites = try Deployment.jiangxiSites(counties: false)
        let deployment = try Deployment.generate(in: root, sites: sites, basePort: port, pushIdleMilliseconds: 100)
        let federation = Federation(deployment: deployment, executable: Bundle.main.executableURL!)
        try federation.prepare()
        print("creditsync demo: hub \(deployment.hubURL) and \(sites.count) city nodes, data in \(root.path)")
        try federation.start()
        do {
            try await federation.waitUntilHealthy()
            try await exercise(federation, started: started)
        } catch {
            federation.stop()
            throw CommandError("\(error)")
        }
        if check {
            federation.stop()
            return
        }
        print("\nThe federation keeps running. Dashboard: \(deployment.hubOperatorURL)/   Status: creditsync status --hub \(deployment.hubOperatorURL)")
        print("Press Ctrl-C to stop.")
        signal(SIGINT) { _ in demoInterrupted = 1 }
        signal(SIGTERM) { _ in demoInterrupted = 1 }
        while demoInterrupted == 0 { try await Task.sleep(for: .milliseconds(200)) }
        print("\nstopping…")
        federation.stop()
    }

    func exercise(_ federation: Federation, started: Date) async throws {
        let deployment = federation.deployment
        let today = ChinaTime.date(of: Date())
        print("\n1. Each city's market regulator writes \(records) records (punishments and permits) to its own node:")
        let writeStart = Date()
        try await withThrowingTaskGroup(of: (String, Int, Int).self) { group in
            for node in deployment.nodes {
                group.addTask {
                    var generator = SyntheticRecords(division: node.id)
                    let batch = (0..<records).map { i in
                        let date = today.adding(days: -(i * 7 % 330) - 1)
                        return i % 2 == 0 ? generator.punishment(i, decidedOn: date) : generator.permit(i, grantedOn: date)
                    }
                    let result = try await federation.submit(node: node.id, records: batch)
                    return (node.id, result.accepted, result.rejected)
                }
            }
            for try await (node, accepted, rejected) in group {
                let name = deployment.nodes.first { $0.id == node }!.name
                print("   \(node) \(name): \(accepted) accepted\(rejected > 0 ? ", \(rejected) rejected" : "")")
            }
        }
        let written = records * deployment.nodes.count
        print("   \(written) records in \(String(format: "%.2f", Date().timeIntervalSince(writeStart))) s")

        print("\n2. A clerk's mistake is refused with the record and the field named:")
        var generator = SyntheticRecords(division: deployment.nodes[0].id)
        var bad = generator.punishment(records + 1, decidedOn: today)
        bad.subject.uscc = "91360100MA35F2K0X1"
        bad.fields["CF_NR_FK"] = .string("两千")
        let badJSON = try JSONEncoder().encode(bad)
        let rejected = try await federation.submit(node: deployment.nodes[0].id, records: [bad])
        print("   \(bad.recordId): rejected \(rejected.rejected) (\(badJSON.count) bytes); run `creditsync record validate` on such a file to see every field's reason")

        print("\n3. Providers correct and revoke records (Article 41):")
        var corrections = 0
        for node in deployment.nodes.prefix(4) {
            var g = SyntheticRecords(division: node.id)
            var record = g.punishment(0, decidedOn: today.adding(days: -1))
            record.fields["CF_NR"] = .string("罚款1000元（复议变更）")
            let correct = try await federation.amend(node: node.id, item: record.item, recordId: record.recordId, action: "correct", body: [
                "record": try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)),
                "reason": "行政复议决定变更罚款金额", "decisionDocument": "赣复决〔\(today.year)〕\(node.id.suffix(4))号"])
            var other = SyntheticRecords(division: node.id)
            let revoked = other.punishment(2, decidedOn: today).recordId
            let revoke = try await federation.amend(node: node.id, item: "administrative-punishment", recordId: revoked, action: "revoke", body: [
                "reason": "原处罚决定被依法撤销", "decisionDocument": "赣撤决〔\(today.year)〕\(node.id.suffix(4))号"])
            print("   \(node.id) \(node.name): corrected \(record.recordId) (\(correct)), revoked \(revoked) (\(revoke))")
            corrections += 2
        }

        print("\n4. Waiting for every change to reach the hub and every node…")
        let converging = Date()
        let snapshot = try await federation.waitForConvergence(expectedHubLog: UInt64(written + corrections))
        print("   converged in \(String(format: "%.2f", Date().timeIntervalSince(converging))) s; hub log \(snapshot.hubLogSize) changes, \(snapshot.records) records")
        print("")
        print(StatusTable.render(snapshot), terminator: "")
        let windows = try await federation.status().corrections
        if !windows.isEmpty {
            print("")
            for w in windows.prefix(8) {
                print("   \(w.row.recordKey) \(w.row.operation): reach hub by \(w.reachHub.deadline.due) \(w.reachHubState.rawValue), all copies by \(w.fixCopies.deadline.due) \(w.fixCopiesState.rawValue)")
            }
        }

        print("\n5. Convergence check: every node's view of the shared records against the hub's")
        let problems = try federation.checkConvergence()
        if problems.isEmpty {
            print("   all \(deployment.nodes.count) nodes hold exactly the hub's \(snapshot.records) records (status and content)")
        } else {
            for p in problems { print("   \(p)") }
            if check { throw FederationError("the federation did not converge") }
        }
        print("\nFigures: \(written) records written, \(corrections) corrections, \(snapshot.hubLogSize) changes fanned out to \(deployment.nodes.count) nodes, \(String(format: "%.1f", Date().timeIntervalSince(started))) s in all")
    }
}
