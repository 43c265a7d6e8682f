import ArgumentParser
import CreditCore
import Foundation

/// `creditsync calendar`: the working-day calendar the legal windows are counted on.
struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar", abstract: "Working days and legal deadlines on China's official calendar.",
        subcommands: [CalendarDeadline.self, CalendarShow.self])
}

/// `creditsync calendar deadline`: the end of the N-th working day after an event.
struct CalendarDeadline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadline",
        abstract: "The due date N working days after an event (the event day not counted).")

    @Option(help: "The event date, YYYY-MM-DD (China time).")
    var from: String

    @Option(help: "The window in working days (3 and 4 for Article 41, 1/3/7 for Article 39, 10 for Article 40).")
    var workingDays: Int

    @Flag(help: "Print a JSON object.")
    var json = false

    @OptionGroup var data: DataOptions

    struct Output: Encodable {
        var from: String
        var workingDays: Int
        var due: String
        var closesAt: String
        var provisional: Bool
        var provisionalYears: [Int]
    }

    func run() async throws {
        guard let event = CivilDate(iso: from) else { throw ValidationError("--from must be a date written YYYY-MM-DD, got '\(from)'") }
        guard workingDays >= 0 else { throw ValidationError("--working-days must not be negative") }
        let calendar = try data.load().calendar
        let deadline = try calendar.deadline(after: event, workingDays: workingDays)
        let output = Output(from: event.description, workingDays: workingDays, due: deadline.due.description,
                            closesAt: ISO8601DateFormatter().string(from: deadline.closesAt),
                            provisional: deadline.isProvisional, provisionalYears: deadline.provisionalYears)
        if json {
            print(jsonLine(output))
        } else {
            print("\(deadline.due)\t(ends 24:00 Asia/Shanghai; \(workingDays) working days after \(event))")
            if deadline.isProvisional {
                let years = deadline.provisionalYears.map(String.init).joined(separator: ", ")
                print("PROVISIONAL: no official calendar is loaded for \(years); Monday–Friday was assumed and the date may move")
            }
        }
    }
}

/// `creditsync calendar show`: a year's holidays and make-up working days.
struct CalendarShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "List a year's holidays and make-up working days.")

    @Argument(help: "The year.")
    var year: Int

    @Flag(help: "Print a JSON object.")
    var json = false

    @OptionGroup var data: DataOptions

    struct Output: Encodable {
        struct Day: Encodable { var date: String; var name: String; var kind: String }
        var year: Int
        var published: Bool
        var workingDays: Int
        var days: [Day]
    }

    func run() async throws {
        guard (1900...2200).contains(year) else { throw ValidationError("the year must be between 1900 and 2200") }
        let calendar = try data.load().calendar
        let published = calendar.isPublished(year: year)
        let days = calendar.entries(in: year).map {
            Output.Day(date: $0.date.description, name: $0.name, kind: $0.isOffDay ? "holiday" : "make-up working day")
        }
        let output = Output(year: year, published: published, workingDays: calendar.workingDayCount(in: year), days: days)
        if json { print(jsonLine(output)); return }
        if published {
            print("\(year): official calendar published; \(output.workingDays) working days")
        } else {
            print("\(year): NOT PUBLISHED — no official notice is loaded; Monday–Friday is assumed (\(output.workingDays) working days) and every deadline in \(year) is provisional")
        }
        for day in days {
            let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][CivilDate(iso: day.date)!.isoWeekday - 1]
            print("\(day.date) \(weekday)\t\(day.kind)\t\(day.name)")
        }
    }
}
