public import CreditCore
public import CreditData
public import Foundation

/// Shared fixtures for the test targets, so that no test file copies another's setup.
public enum Fixtures {
    /// The date the tests treat as today in China. Fixed so that results never depend on the day
    /// the suite runs (the identifier vectors say which "today" they assume).
    public static let today = CivilDate(year: 2026, month: 11, day: 20)!

    /// The bundled reference data, loaded once per test process.
    public static let reference: ReferenceData = {
        do { return try ReferenceData.load() } catch { fatalError("bundled reference data does not load: \(error)") }
    }()

    /// Identifier context at ``today``.
    public static var identifiers: IdentifierContext { reference.identifierContext(today: today) }

    /// A validator at ``today``.
    public static var validator: RecordValidator { reference.validator(today: today) }

    /// The repository's root directory (tests run from a checkout).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// A file under `Protocol/`.
    public static func protocolFile(_ path: String) -> URL {
        repositoryRoot.appendingPathComponent("Protocol").appendingPathComponent(path)
    }

    /// Decodes a test-vector file from `Protocol/vectors/`.
    public static func vectors<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let data = try Data(contentsOf: protocolFile("vectors/\(name)"))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// A fresh temporary directory, removed by the caller (or left for the OS to clean).
    public static func temporaryDirectory(_ label: String = "creditsync") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Paths of the bundled data files, for tests that build variants of them.
public enum ReferenceDataPaths {
    /// The bundled holiday file of `year`.
    public static func calendar(_ year: Int) -> URL {
        ReferenceData.bundledDirectory.appendingPathComponent("calendar/holiday-cn-\(year).json")
    }

    /// The bundled national catalog layer.
    public static var nationalCatalog: URL {
        ReferenceData.bundledDirectory.appendingPathComponent("catalog/national.json")
    }
}

/// Runs the real `creditsync` binary, for the end-to-end tests.
public enum CLI {
    /// The built `creditsync` executable, beside the test bundle in the build directory.
    public static var executable: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // swift test runs `<build>/creditsyncPackageTests.xctest`; on macOS the binary is inside a bundle.
        while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("creditsync").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("creditsync")
    }

    /// Runs `creditsync` with `arguments` and optional standard input, and waits for it, off
    /// the cooperative pool (``ChildProcess`` says why).
    public static func run(_ arguments: [String], input: Data? = nil, environment: [String: String] = [:]) async throws -> ChildProcess.Output {
        try await ChildProcess.run(executable, arguments, input: input, environment: environment)
    }
}
