import ArgumentParser
import CreditCore
import CreditData
import CreditHub
import Foundation
import Logging
import SyncProtocol

/// `creditsync hub report`: the Article 41 compliance report as CSV.
struct HubReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write the Article 41 compliance report (CSV) for corrections received in a period.",
        discussion: "With --rights, the report of credit subjects' objections (Article 39) and restorations (Article 40) opened in the period: every window of every case.")

    @Option(help: "The hub's configuration file.") var config: String
    @Option(help: "First day (YYYY-MM-DD, China time), inclusive.") var from: String
    @Option(help: "Last day (YYYY-MM-DD, China time), inclusive.") var to: String
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Flag(help: "Report the windows of objections and restorations (Articles 39, 40) instead of corrections.") var rights = false

    func run() async throws {
        guard let first = CivilDateParse.parse(from), let last = CivilDateParse.parse(to) else {
            throw ValidationError("--from and --to are dates written YYYY-MM-DD")
        }
        // Beside the running hub: the store is opened as an operator, never tidied.
        let service = try openHubService(configPath: config)
        let csv = rights ? try service.rightsComplianceReport(from: first.start, to: last.end)
            : try service.complianceReport(from: first.start, to: last.end)
        if let out { try csv.write(toFile: out, atomically: true, encoding: .utf8) } else { print(csv, terminator: "") }
    }
}

enum CivilDateParse {
    static func parse(_ text: String) -> (start: Date, end: Date)? {
        guard let d = CivilDate(iso: text) else { return nil }
        return (ChinaTime.startOfDay(d), ChinaTime.endOfDay(d))
    }
}
