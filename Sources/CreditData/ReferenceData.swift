public import CreditCore
public import Foundation

/// The reference data the product runs on: the catalog layers, the working-day calendar, the
/// division codes, the national display rules and the accepted legacy credit codes.
///
/// Defaults ship inside the build (`Data/` in this module). An operator adds to them without
/// rebuilding by naming overlay directories of the same layout:
///
/// ```
/// catalog/*.json      catalog layers (a city's supplement, a newer provincial layer)
/// calendar/*.json     holiday files, one per year (the next year's notice, say)
/// divisions/china-divisions-history.csv
/// rules/display-periods.json
/// rules/legacy-credit-codes.txt
/// ```
///
/// A file in an overlay replaces the bundled file of the same relative path; any other file is
/// added. Later overlays win over earlier ones.
public struct ReferenceData: Sendable {
    public var catalog: Catalog
    public var calendar: WorkingDayCalendar
    public var divisions: DivisionCodes
    public var displayRules: DisplayRules
    public var legacyCreditCodes: Set<String>

    /// The directory of the data that ships with the build: `Data/` in the resource bundle
    /// `swift build` writes beside the executable (`creditsync_CreditData.resources`), which is
    /// installed with it.
    ///
    /// Without it the process stops with a message that says so. SwiftPM's own accessor would
    /// instead fall back to the build machine's build directory, so a copied binary ran there
    /// and crashed with a backtrace everywhere else.
    public static var bundledDirectory: URL { located }

    static let located: URL = {
        let name = "creditsync_CreditData.resources"
        let beside = Bundle.main.bundleURL.appendingPathComponent(name, isDirectory: true)
        guard FileManager.default.fileExists(atPath: beside.appendingPathComponent("Data").path) else {
            FileHandle.standardError.write(Data(("Error: creditsync's reference data is missing: install the folder \(name), which swift "
                + "build writes beside the binary, next to it (\(beside.path))\n").utf8))
            exit(1)
        }
        return beside.appendingPathComponent("Data", isDirectory: true)
    }()

    /// Loads the bundled data, then each overlay directory in order.
    /// - Throws: ``ReferenceDataError`` naming the file at fault.
    public static func load(overlays: [URL] = []) throws(ReferenceDataError) -> ReferenceData {
        let files = DataFiles(directories: [bundledDirectory] + overlays)
        let catalogLayers = try files.all(in: "catalog", extension: "json").map { url throws(ReferenceDataError) in
            let data = try read(url)
            return try wrap(url) { () throws(CatalogError) in try Catalog.decodeLayer(data, source: url.path) }
        }
        let catalog = try wrap(files.directories.first!) { () throws(CatalogError) in try Catalog(layers: catalogLayers) }
        let holidayFiles = try files.all(in: "calendar", extension: "json").map { url throws(ReferenceDataError) in
            let data = try read(url)
            return try wrap(url) { () throws(CalendarError) in try HolidayFile.decode(data, source: url.path) }
        }
        let calendar = try wrap(files.directories.first!) { () throws(CalendarError) in
            try WorkingDayCalendar(files: holidayFiles)
        }
        let divisionsURL = try files.one("divisions/china-divisions-history.csv")
        let divisionText = String(decoding: try read(divisionsURL), as: UTF8.self)
        let divisions = try wrap(divisionsURL) { () throws(DivisionCodesError) in
            try DivisionCodes.parseHistoryCSV(divisionText)
        }
        let rulesURL = try files.one("rules/display-periods.json")
        let rulesData = try read(rulesURL)
        let rules = try wrap(rulesURL) { try DisplayRules.decode(rulesData) }
        let legacyURL = try files.one("rules/legacy-credit-codes.txt")
        let legacy = Set(String(decoding: try read(legacyURL), as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") })
        return ReferenceData(catalog: catalog, calendar: calendar, divisions: divisions,
                             displayRules: rules, legacyCreditCodes: legacy)
    }

    /// The catalog layers and holiday files in force, by relative path (`catalog/national.json`),
    /// after overlays: what the hub distributes to the nodes so that the province runs on one
    /// catalog and one calendar.
    public static func distributableFiles(overlays: [URL]) throws(ReferenceDataError) -> [(path: String, url: URL)] {
        let files = DataFiles(directories: [bundledDirectory] + overlays)
        var out: [(String, URL)] = []
        for folder in ["catalog", "calendar"] {
            for url in try files.all(in: folder, extension: "json") { out.append(("\(folder)/\(url.lastPathComponent)", url)) }
        }
        return out
    }

    /// What identifier validation needs, with `today` fixed by the caller (the injected clock).
    public func identifierContext(today: CivilDate) -> IdentifierContext {
        IdentifierContext(divisions: divisions, today: today, acceptedLegacyCodes: legacyCreditCodes)
    }

    /// A record validator over this data.
    public func validator(today: CivilDate) -> RecordValidator {
        RecordValidator(catalog: catalog, identifiers: identifierContext(today: today), displayRules: displayRules)
    }

    static func read(_ url: URL) throws(ReferenceDataError) -> Data {
        do { return try Data(contentsOf: url) } catch { throw .unreadable(url.path, reason: error.localizedDescription) }
    }

    static func wrap<T, E: Error>(_ url: URL, _ body: () throws(E) -> T) throws(ReferenceDataError) -> T {
        do { return try body() } catch let error as ReferenceDataError { throw error } catch {
            throw .invalid(url.path, reason: String(describing: error))
        }
    }
}

/// Why reference data could not be loaded.
public enum ReferenceDataError: Error, CustomStringConvertible {
    case missing(String, searched: [String])
    case unreadable(String, reason: String)
    case invalid(String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path, searched): "no \(path) in the data directories \(searched.joined(separator: ", "))"
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case let .invalid(path, reason): "\(path): \(reason)"
        }
    }
}

/// Resolves relative paths over a stack of directories, later ones overriding earlier ones.
struct DataFiles {
    let directories: [URL]

    /// Every file with `extension` directly in `folder` of any directory; a later directory's file
    /// replaces an earlier one with the same name. Sorted by name for a stable load order.
    func all(in folder: String, extension ext: String) throws(ReferenceDataError) -> [URL] {
        var byName: [String: URL] = [:]
        for directory in directories {
            let dir = directory.appendingPathComponent(folder, isDirectory: true)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for name in names where name.hasSuffix(".\(ext)") {
                byName[name] = dir.appendingPathComponent(name)
            }
        }
        return byName.keys.sorted().map { byName[$0]! }
    }

    /// The last directory's copy of `path`.
    func one(_ path: String) throws(ReferenceDataError) -> URL {
        for directory in directories.reversed() {
            let url = directory.appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw .missing(path, searched: directories.map(\.path))
    }
}
