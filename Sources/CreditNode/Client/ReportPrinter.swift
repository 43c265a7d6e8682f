public import Foundation

/// Prints an HTML page to PDF with headless Chromium: how a clerk hands a credit subject the
/// printed report (Article 38). Debian's `chromium` with `fonts-noto-cjk` renders the Chinese text.
public enum ReportPrinter {
    /// The browser: `$CHROMIUM`, else the first of `chromium`, `chromium-browser`,
    /// `google-chrome` on the `PATH`.
    public static func browser() -> String? {
        if let configured = ProcessInfo.processInfo.environment["CHROMIUM"], !configured.isEmpty { return configured }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in path where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
        }
        return nil
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes `html` to `pdf`.
    /// - Throws: ``Failure`` when no browser is found or it does not write the file.
    public static func print(html: String, to pdf: URL) throws {
        guard let browser = browser() else {
            throw Failure(description: "no Chromium found: install Debian's chromium and fonts-noto-cjk, or set CHROMIUM")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("creditsync-report-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: page)
        try? FileManager.default.removeItem(at: pdf)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        // A profile of its own, so that a clerk's open browser does not take the job over.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=\(dir.path)/profile",
                             "--print-to-pdf=\(pdf.path)", page.absoluteString]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard FileManager.default.fileExists(atPath: pdf.path) else {
            throw Failure(description: "\(browser) wrote no PDF (exit \(process.terminationStatus)): \(String(decoding: stderr.suffix(1000), as: UTF8.self))")
        }
    }
}
