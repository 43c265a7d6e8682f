public import Foundation

/// One year's official holiday notice, in the public holiday-cn format.
///
/// `isOffDay: false` marks a make-up working day (调休), usually a Saturday or Sunday. A file is
/// keyed by the notice's year, so it may list dates of the neighbouring year (a New Year holiday
/// that starts on 31 December, say). Weekend days that are merely adjacent to a holiday are not
/// listed: they are weekends anyway.
public struct HolidayFile: Codable, Sendable, Equatable {
    /// One listed day.
    public struct Day: Codable, Sendable, Equatable {
        public var name: String
        public var date: CivilDate
        public var isOffDay: Bool

        public init(name: String, date: CivilDate, isOffDay: Bool) {
            self.name = name
            self.date = date
            self.isOffDay = isOffDay
        }
    }

    /// The year whose notice this is; having the file publishes that year's calendar.
    public var year: Int
    /// Where the notice was published.
    public var papers: [String]
    public var days: [Day]

    public init(year: Int, papers: [String] = [], days: [Day]) {
        self.year = year
        self.papers = papers
        self.days = days
    }

    enum CodingKeys: String, CodingKey { case year, papers, days }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        year = try c.decode(Int.self, forKey: .year)
        papers = try c.decodeIfPresent([String].self, forKey: .papers) ?? []
        days = try c.decode([Day].self, forKey: .days)
    }

    /// Decodes a holiday file, naming the file in the error.
    /// - Throws: ``CalendarError/malformedFile(_:reason:)``.
    public static func decode(_ data: Data, source: String) throws(CalendarError) -> HolidayFile {
        do {
            return try JSONValue.decode(HolidayFile.self, from: Array(data))
        } catch {
            throw .malformedFile(source, reason: String(describing: error))
        }
    }
}

/// Why a calendar could not be built or used.
public enum CalendarError: Error, Equatable, CustomStringConvertible {
    case malformedFile(String, reason: String)
    case conflictingDay(CivilDate, first: String, second: String)
    case duplicateYear(Int)
    case negativeWorkingDays(Int)

    public var description: String {
        switch self {
        case let .malformedFile(source, reason): "holiday file \(source) is not valid: \(reason)"
        case let .conflictingDay(date, first, second):
            "\(date) is listed both as \(first) and as \(second); fix the holiday files"
        case let .duplicateYear(year): "two holiday files are published for \(year)"
        case let .negativeWorkingDays(n): "a window of \(n) working days is not meaningful"
        }
    }
}
