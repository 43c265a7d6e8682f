public import Foundation

/// China's working-day calendar: Monday to Friday, minus the public holidays, plus the make-up
/// working days, as the State Council publishes them year by year.
///
/// A year whose notice has not been loaded falls back to Monday–Friday. That guess is usually
/// close but can be days off around the Spring Festival, so every ``Deadline`` that counts a day
/// of such a year is marked provisional; it is recomputed when the year's file is loaded.
public struct WorkingDayCalendar: Sendable {
    private var listed: [CivilDate: HolidayFile.Day] = [:]
    /// The years whose official notice is loaded.
    public private(set) var publishedYears: Set<Int> = []

    /// Builds a calendar from holiday files.
    /// - Throws: ``CalendarError/duplicateYear(_:)`` when two files claim one year,
    ///   ``CalendarError/conflictingDay(_:first:second:)`` when two entries disagree about a date.
    public init(files: [HolidayFile]) throws(CalendarError) {
        for file in files {
            guard publishedYears.insert(file.year).inserted else { throw .duplicateYear(file.year) }
            for day in file.days {
                if let existing = listed[day.date], existing.isOffDay != day.isOffDay {
                    throw .conflictingDay(day.date, first: Self.label(existing), second: Self.label(day))
                }
                listed[day.date] = day
            }
        }
    }

    /// A calendar with no published year: every deadline is provisional.
    public static let weekdaysOnly = try! WorkingDayCalendar(files: [])

    private static func label(_ day: HolidayFile.Day) -> String {
        "\(day.isOffDay ? "holiday" : "make-up working day") (\(day.name))"
    }

    /// The years with an official notice loaded, in order, as logs show them ("2025,2026,2027").
    public var publishedYearsText: String { publishedYears.sorted().map(String.init).joined(separator: ",") }

    /// Whether the official notice for `year` is loaded.
    public func isPublished(year: Int) -> Bool { publishedYears.contains(year) }

    /// Whether `date` is a working day.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if let day = listed[date] { return !day.isOffDay }
        return !date.isWeekend
    }

    /// The holiday or make-up entry for `date`, when the notices list one.
    public func entry(for date: CivilDate) -> HolidayFile.Day? { listed[date] }

    /// Every listed holiday and make-up day falling in `year`, in date order.
    public func entries(in year: Int) -> [HolidayFile.Day] {
        listed.values.filter { $0.date.year == year }.sorted { $0.date < $1.date }
    }

    /// The number of working days in `year`.
    public func workingDayCount(in year: Int) -> Int {
        var date = CivilDate(year: year, month: 1, day: 1)!
        var count = 0
        while date.year == year {
            if isWorkingDay(date) { count += 1 }
            date = date.adding(days: 1)
        }
        return count
    }

    /// The deadline `workingDays` working days after an event on `event`.
    ///
    /// Civil Code articles 201 and 203: the event day is not counted, and the window ends at the end
    /// (24:00 China time) of the N-th working day after it. With `workingDays` 0 the window ends at
    /// the end of the event day itself.
    /// - Throws: ``CalendarError/negativeWorkingDays(_:)``.
    public func deadline(after event: CivilDate, workingDays: Int) throws(CalendarError) -> Deadline {
        guard workingDays >= 0 else { throw .negativeWorkingDays(workingDays) }
        var date = event
        var counted = 0
        var unpublished: Set<Int> = []
        while counted < workingDays {
            date = date.adding(days: 1)
            if !isPublished(year: date.year) { unpublished.insert(date.year) }
            if isWorkingDay(date) { counted += 1 }
        }
        return Deadline(event: event, workingDays: workingDays, due: date,
                        provisionalYears: unpublished.sorted())
    }

    /// The deadline for an event at `instant`, counted from its date in China.
    public func deadline(after instant: Date, workingDays: Int) throws(CalendarError) -> Deadline {
        try deadline(after: ChinaTime.date(of: instant), workingDays: workingDays)
    }

    /// Working days strictly after `start` up to and including `end`: how many working days of a
    /// window are still left at the start of `start + 1`.
    public func workingDays(after start: CivilDate, through end: CivilDate) -> Int {
        guard end > start else { return 0 }
        var count = 0
        var date = start.adding(days: 1)
        while date <= end {
            if isWorkingDay(date) { count += 1 }
            date = date.adding(days: 1)
        }
        return count
    }
}

/// When a legal window closes.
public struct Deadline: Sendable, Equatable, Codable {
    /// The date of the event that opened the window (not itself counted).
    public var event: CivilDate
    /// The window's length in working days.
    public var workingDays: Int
    /// The last day of the window; it ends at 24:00 China time on this day.
    public var due: CivilDate
    /// Years the count passed through whose official calendar is not loaded. Non-empty means the
    /// due date was computed on the Monday–Friday fallback and may move.
    public var provisionalYears: [Int]

    public init(event: CivilDate, workingDays: Int, due: CivilDate, provisionalYears: [Int]) {
        self.event = event
        self.workingDays = workingDays
        self.due = due
        self.provisionalYears = provisionalYears
    }

    /// Whether the due date rests on a year without a published calendar.
    public var isProvisional: Bool { !provisionalYears.isEmpty }

    /// The instant the window closes: the end of ``due`` in China.
    public var closesAt: Date { ChinaTime.endOfDay(due) }
}
