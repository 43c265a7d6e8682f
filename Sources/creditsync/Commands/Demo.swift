import ArgumentParser
import CreditCore
import CreditData
import Foundation

/// `creditsync demo`: the README's main job.
///
/// For now it runs the domain core on synthetic sample data: it generates records for each of
/// Jiangxi's 11 districted cities, validates and classifies them, shows the errors a clerk would
/// see for a bad record, and computes the legal windows of a correction. The federation of a hub
/// and 11 node processes takes this command's place when the node and hub land.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the domain core on synthetic sample data for Jiangxi's 11 cities.")

    @Option(help: "Records to generate per city.")
    var perCity = 20

    @Flag(help: "Exit non-zero unless every sample record validates and every check holds.")
    var check = false

    @OptionGroup var data: DataOptions

    func run() async throws {
        let reference = try data.load()
        let today = try data.currentDate()
        let validator = reference.validator(today: today)
        print("creditsync demo — catalog \(reference.catalog.version), \(reference.catalog.items.count) items; " +
              "calendar years \(reference.calendar.publishedYears.sorted().map(String.init).joined(separator: ", ")); " +
              "\(reference.divisions.count) division codes")

        var failures: [String] = []
        var byClass: [RecordClass: Int] = [:]
        print("\nValidating \(perCity) synthetic records for each of the 11 districted cities:")
        for (code, name) in SyntheticRecords.cities {
            var generator = SyntheticRecords(division: code)
            var valid = 0
            for i in 0..<perCity {
                let date = today.adding(days: -(i * 11 % 300) - 1)
                let record = i % 2 == 0 ? generator.punishment(i, decidedOn: date) : generator.permit(i, grantedOn: date)
                let result = validator.validate(record)
                if let accepted = result.accepted {
                    valid += 1
                    byClass[accepted.classification.recordClass, default: 0] += 1
                } else {
                    failures.append("\(record.recordId): \(result.issues.map(\.description).joined(separator: "; "))")
                }
            }
            print("  \(code) \(name.padding(toLength: 5, withPad: "　", startingAt: 0)) \(valid)/\(perCity) valid")
        }
        print("  by class: " + byClass.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))

        print("\nWhat a clerk sees for a record with mistakes:")
        var generator = SyntheticRecords(division: "360100")
        var bad = generator.punishment(1, decidedOn: today.adding(days: -3))
        bad.subject.uscc = "91360100MA35F2K0X1"
        bad.fields["CF_NR_FK"] = .string("two thousand")
        bad.fields["bloodType"] = .string("A")
        bad.fields["CF_WSH"] = nil
        let badResult = validator.validate(bad)
        for issue in badResult.issues { print("  \(bad.recordId) \(issue.field): \(issue.message)") }
        if badResult.issues.count != 4 { failures.append("the bad sample should have 4 problems, found \(badResult.issues.count)") }

        print("\nArticle 41 windows for a correction made today (\(today)):")
        let reach = try reference.calendar.deadline(after: today, workingDays: 3)
        let fix = try reference.calendar.deadline(after: today, workingDays: 4)
        print("  reaches the provincial platform by \(reach.due) 24:00\(reach.isProvisional ? " (provisional)" : "")")
        print("  every copy fixed within 4 working days of receipt: by \(fix.due) 24:00 if received today\(fix.isProvisional ? " (provisional)" : "")")
        let known = try reference.calendar.deadline(after: CivilDate(year: 2026, month: 9, day: 30)!, workingDays: 3)
        print("  across the 2026 National Day holiday: 2026-09-30 + 3 working days = \(known.due)")
        if known.due.description != "2026-10-10" { failures.append("calendar: expected 2026-10-10, got \(known.due)") }

        if failures.isEmpty {
            print("\nAll checks hold.")
        } else {
            print("\n\(failures.count) problem(s):")
            for failure in failures { print("  \(failure)") }
            if check { throw ExitCode(1) }
        }
    }
}
