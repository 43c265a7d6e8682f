import CreditCore
import CreditTesting
import Foundation
import Testing

struct DeadlineVector: Decodable, Sendable, CustomTestStringConvertible {
    var from: CivilDate
    var workingDays: Int
    var due: CivilDate
    var provisional: Bool
    var note: String
    var testDescription: String { "\(from) + \(workingDays): \(note)" }
}

struct DeadlineVectorFile: Decodable { var vectors: [DeadlineVector] }

let deadlineVectors = (try? Fixtures.vectors("deadlines.json", as: DeadlineVectorFile.self).vectors) ?? []

@Suite struct WorkingDayCalendarTests {
    let calendar = Fixtures.reference.calendar

    @Test func vectorsLoad() { #expect(deadlineVectors.count >= 14) }

    @Test(arguments: deadlineVectors)
    func deadline(_ v: DeadlineVector) throws {
        let d = try calendar.deadline(after: v.from, workingDays: v.workingDays)
        #expect(d.due == v.due)
        #expect(d.isProvisional == v.provisional)
    }

    @Test(arguments: [2025, 2026])
    func publishedYearsHave248WorkingDays(_ year: Int) {
        #expect(calendar.isPublished(year: year))
        #expect(calendar.workingDayCount(in: year) == 248)
    }

    @Test func unpublishedYearFallsBackToWeekdaysAndSaysSo() throws {
        #expect(!calendar.isPublished(year: 2027))
        // 2027 has 261 weekdays.
        #expect(calendar.workingDayCount(in: 2027) == 261)
        let d = try calendar.deadline(after: CivilDate(year: 2027, month: 3, day: 1)!, workingDays: 3)
        #expect(d.provisionalYears == [2027])
    }

    @Test func loadingTheYearsFileMakesItFinal() throws {
        // Given a calendar without 2027, when the year's notice is added,
        let day = HolidayFile.Day(name: "元旦", date: CivilDate(year: 2027, month: 1, day: 1)!, isOffDay: true)
        let files = try [2025, 2026].map { year in
            try HolidayFile.decode(Data(contentsOf: ReferenceDataPaths.calendar(year)), source: "\(year)")
        }
        let with2027 = try WorkingDayCalendar(files: files + [HolidayFile(year: 2027, days: [day])])
        // then the deadline moves past the holiday and is no longer provisional.
        let d = try with2027.deadline(after: CivilDate(year: 2026, month: 12, day: 28)!, workingDays: 4)
        #expect(d.due == CivilDate(year: 2027, month: 1, day: 4))
        #expect(!d.isProvisional)
    }

    /// calendar.md, Provisional deadlines: a date of an unpublished year that a published year's
    /// notice lists is judged by that entry, and the deadline is still provisional.
    @Test func aNeighbouringYearsDateListedInAPublishedNoticeIsJudgedByItAndStaysProvisional() throws {
        let newYear = HolidayFile.Day(name: "元旦", date: CivilDate(year: 2027, month: 1, day: 1)!, isOffDay: true)
        let files = try [2025, 2026].map { year in
            try HolidayFile.decode(Data(contentsOf: ReferenceDataPaths.calendar(year)), source: "\(year)")
        }
        var notice2026 = files[1]
        notice2026.days.append(newYear)
        let listed = try WorkingDayCalendar(files: [files[0], notice2026])
        #expect(!listed.isPublished(year: 2027) && !listed.isWorkingDay(newYear.date))
        // 2026-12-31, a Thursday: Friday 2027-01-01 is the listed holiday, so one working day is Monday.
        let d = try listed.deadline(after: CivilDate(year: 2026, month: 12, day: 31)!, workingDays: 1)
        #expect(d.due == CivilDate(year: 2027, month: 1, day: 4))
        #expect(d.provisionalYears == [2027])
        // Without the entry, the Monday–Friday rule makes it Friday, provisional as well.
        let bare = try calendar.deadline(after: CivilDate(year: 2026, month: 12, day: 31)!, workingDays: 1)
        #expect(bare.due == CivilDate(year: 2027, month: 1, day: 1) && bare.provisionalYears == [2027])
    }

    @Test func deadlineEndsAtMidnightChinaTime() throws {
        let d = try calendar.deadline(after: CivilDate(year: 2026, month: 9, day: 30)!, workingDays: 3)
        // 2026-10-10 24:00 UTC+8 is 2026-10-10 16:00 UTC.
        #expect(d.closesAt == ISO8601DateFormatter().date(from: "2026-10-10T16:00:00Z"))
        // An event late in the evening UTC is already the next day in China.
        let instant = ISO8601DateFormatter().date(from: "2026-09-29T16:30:00Z")!
        #expect(ChinaTime.date(of: instant) == CivilDate(year: 2026, month: 9, day: 30))
    }

    /// The working days left an operator is shown: the rest of today and each working day
    /// after it, none once closed or past the end, and never rounded up into "1.0" while at risk.
    @Test func workingDaysLeftAreShownRoundedDownAndOnlyWhileOpen() throws {
        let window = LegalWindow(deadline: try calendar.deadline(after: CivilDate(year: 2026, month: 9, day: 30)!, workingDays: 3))
        // 2026-10-09 (Friday) 00:43 China time: 0.97 of today, and the Saturday make-up day 10-10.
        let friday = ISO8601DateFormatter().date(from: "2026-10-08T16:43:12Z")!
        let shown = window.showingWorkingDaysLeft(at: friday, calendar: calendar)
        #expect(shown.workingDaysLeft == 1.97 && shown.workingDaysLeftText == "1.9 working days left")
        // 23:02 on the last day: at risk, 0.04 left, shown as 0.0.
        let last = ISO8601DateFormatter().date(from: "2026-10-10T15:02:24Z")!
        #expect(window.state(at: last, calendar: calendar) == .atRisk)
        #expect(window.showingWorkingDaysLeft(at: last, calendar: calendar).workingDaysLeftText == "0.0 working days left")
        let past = ISO8601DateFormatter().date(from: "2026-10-10T16:00:01Z")!
        #expect(window.showingWorkingDaysLeft(at: past, calendar: calendar).workingDaysLeft == nil, "breached says it")
        var done = window
        done.completedAt = friday
        #expect(done.showingWorkingDaysLeft(at: friday, calendar: calendar).workingDaysLeft == nil)
        #expect(window.workingDaysLeft == nil, "filled only when shown")
    }

    @Test func conflictingEntriesAreRefused() {
        let date = CivilDate(year: 2030, month: 1, day: 1)!
        let a = HolidayFile(year: 2030, days: [.init(name: "元旦", date: date, isOffDay: true)])
        let b = HolidayFile(year: 2029, days: [.init(name: "补班", date: date, isOffDay: false)])
        #expect(throws: CalendarError.self) { try WorkingDayCalendar(files: [a, b]) }
        #expect(throws: CalendarError.duplicateYear(2030)) { try WorkingDayCalendar(files: [a, a]) }
    }

    @Test func negativeWindowIsRefused() {
        #expect(throws: CalendarError.negativeWorkingDays(-1)) {
            try calendar.deadline(after: CivilDate(year: 2026, month: 1, day: 5)!, workingDays: -1)
        }
    }
}

@Suite struct CivilDateTests {
    @Test func roundTripsThroughDayCounts() {
        var date = CivilDate(year: 1850, month: 1, day: 1)!
        var count = date.daysSinceEpoch
        while date.year < 2101 {
            #expect(CivilDate(daysSinceEpoch: count) == date)
            date = date.adding(days: 1)
            count += 1
            #expect(date.daysSinceEpoch == count)
        }
    }

    @Test func weekdaysAndParsing() {
        #expect(CivilDate(iso: "2026-11-27")!.isoWeekday == 5)
        #expect(CivilDate(iso: "1970-01-01")!.isoWeekday == 4)
        #expect(CivilDate(iso: "2026-02-29") == nil)
        #expect(CivilDate(iso: "2026-2-01") == nil)
        #expect(CivilDate(iso: "2024-02-29") != nil)
        #expect(CivilDate(iso: "2026-01-31")!.adding(months: 1) == CivilDate(iso: "2026-02-28"))
        for text in ["2026-11-27", "0999-01-05", "1949-12-31", "2000-10-01"] { #expect(CivilDate(iso: text)!.description == text) }
    }
}
