import ArgumentParser
import CreditCore
import CreditData
import Foundation

/// Options every command that reads reference data shares.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"),
            help: ArgumentHelp("An overlay data directory (catalog/, calendar/, …) added to the bundled data; repeatable.",
                               valueName: "dir"))
    var overlays: [String] = []

    @Option(help: ArgumentHelp("Treat this date (YYYY-MM-DD) as today in China, for reproducible checks.", visibility: .hidden))
    var today: String?

    /// Loads the bundled data and the overlays, including those in `CREDITSYNC_DATA`
    /// (colon-separated).
    func load() throws -> ReferenceData {
        var dirs = ProcessInfo.processInfo.environment["CREDITSYNC_DATA"]?.split(separator: ":").map(String.init) ?? []
        dirs += overlays
        do {
            return try ReferenceData.load(overlays: dirs.map { URL(fileURLWithPath: $0, isDirectory: true) })
        } catch {
            throw CommandError("cannot load reference data: \(error)")
        }
    }

    /// Today in China, or the date given with `--today`.
    func currentDate() throws -> CivilDate {
        guard let today else { return ChinaTime.date(of: Date()) }
        guard let date = CivilDate(iso: today) else { throw ValidationError("--today must be a date written YYYY-MM-DD") }
        return date
    }
}
