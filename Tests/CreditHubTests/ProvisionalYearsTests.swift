import CreditCore
@testable import CreditHub
import CreditTesting
import Foundation
import Testing

/// The years the hub calls provisional, which `CreditsyncCalendarProvisional` alerts on: only
/// those a window opened now can reach. Counting next year from January on kept the alert on for
/// ten months of every year, before the State Council publishes next year's calendar.
@Suite struct ProvisionalYearsTests {
    /// China time noon on a day of 2026, whose calendar (like 2025's) is bundled; 2027's is not.
    func noon(_ month: Int, _ day: Int) -> Date {
        ISO8601DateFormatter().date(from: String(format: "2026-%02d-%02dT04:00:00Z", month, day))!
    }

    @Test func nextYearCountsOnlyOnceTheLongestWindowOpenedTodayEndsInIt() {
        let calendar = Fixtures.reference.calendar
        #expect(!calendar.isPublished(year: 2027))
        #expect(HubService.provisionalYears(at: noon(6, 15), calendar: calendar) == [])
        // Ten working days after 2 December 2026 is 16 December: still this year.
        #expect(HubService.provisionalYears(at: noon(12, 2), calendar: calendar) == [])
        // Ten working days after 28 December ends in January 2027, assumed Monday–Friday.
        #expect(HubService.provisionalYears(at: noon(12, 28), calendar: calendar) == [2027])
    }

    @Test func thisYearWithoutItsCalendarCountsAllYear() {
        #expect(HubService.provisionalYears(at: noon(6, 15), calendar: .weekdaysOnly) == [2026])
        #expect(HubService.provisionalYears(at: noon(12, 28), calendar: .weekdaysOnly) == [2026, 2027])
    }
}
