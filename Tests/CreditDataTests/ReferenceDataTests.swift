import CreditCore
import CreditData
import CreditTesting
import Foundation
import Testing

@Suite struct ReferenceDataTests {
    @Test func bundledDataLoads() {
        let data = Fixtures.reference
        #expect(data.calendar.publishedYears == [2025, 2026])
        #expect(data.divisions.count > 6000)
        #expect(data.divisions.contains("360102")) // retired 2004, still in identity numbers
        #expect(data.divisions.contains("830000"))
        #expect(data.legacyCreditCodes.contains("91350100M0001TGQXM"))
        #expect(data.displayRules.rule(on: CivilDate(year: 2026, month: 4, day: 1)!)?.id == "NDRC-36")
    }

    @Test func anOverlayAddsACalendarYearAndACitySupplement() throws {
        // Given an operator's overlay directory with the 2027 notice and a city supplement,
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("calendar"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("catalog"), withIntermediateDirectories: true)
        let notice = HolidayFile(year: 2027, days: [.init(name: "元旦", date: CivilDate(year: 2027, month: 1, day: 1)!, isOffDay: true)])
        try JSONEncoder().encode(notice).write(to: dir.appendingPathComponent("calendar/holiday-cn-2027.json"))
        let item = CatalogItem(code: "nanchang-item", name: "南昌补充", title: "Nanchang", category: .positive, basis: "Article 11",
                               subjectKinds: [.legalPerson], disclosure: .public, decisionDateField: "d",
                               fields: [FieldSpec(name: "d", label: "日期", type: .date, required: true)])
        let layer = CatalogLayer(layer: .city, id: "360100", version: "2026.2", title: "南昌市补充目录", division: "360100", items: [item])
        try JSONEncoder().encode(layer).write(to: dir.appendingPathComponent("catalog/city-360100.json"))

        // when the data is loaded with it, without any rebuild,
        let data = try ReferenceData.load(overlays: [dir])

        // then 2027 is published and the city's item is in the catalog.
        #expect(data.calendar.isPublished(year: 2027))
        #expect(data.catalog.item("nanchang-item") != nil)
        #expect(data.catalog.version == "national@2026.1+jiangxi@2026.1+360100@2026.2")
    }

    @Test func aBrokenOverlayIsRefusedNamingTheFile() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("calendar"), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("calendar/holiday-cn-2027.json"))
        do {
            _ = try ReferenceData.load(overlays: [dir])
            Issue.record("a broken holiday file was accepted")
        } catch {
            #expect("\(error)".contains("holiday-cn-2027.json"))
        }
    }
}
