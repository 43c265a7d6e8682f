import ArgumentParser
import Foundation
import Logging

/// How the daemons write their log lines on standard error (README, "Logs").
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    /// `2026-11-30T01:30:00.123Z notice creditsync.hub: message key=value`, for a terminal.
    case text
    /// One JSON object per line, its keys sorted: `level`, `logger`, `msg`, `ts` and the metadata, every value a string.
    case json
    /// `<N>message key=value`, with the syslog priority journald reads from the prefix.
    case journald

    /// journald when the process's standard error is the journal (systemd sets `JOURNAL_STREAM`), else text.
    static var automatic: LogFormat { ProcessInfo.processInfo.environment["JOURNAL_STREAM"] == nil ? .text : .journald }

    /// Makes every logger of the process write in this format.
    func bootstrap() {
        let format = self
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, format: format) }
    }
}

/// A log handler that writes one line per event, whole (one `write`), in a ``LogFormat``.
/// Metadata values are printed as their text, never as a dump of a structure.
struct DaemonLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message
        var all = metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error { all["error"] = "\(error)" }
        let line: String
        switch format {
        case .text:
            line = "\(Self.timestamp()) \(level) \(label): \(message)\(Self.pairs(all))"
        case .journald:
            line = "<\(Self.priority(level))>\(message)\(Self.pairs(all))"
        case .json:
            var object: [String: String] = ["ts": Self.timestamp(), "level": level.rawValue, "logger": label, "msg": "\(message)"]
            for (key, value) in all where object[key] == nil { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8))
    }

    /// The syslog priority of a level (sd-daemon(3)).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func pairs(_ metadata: Logger.Metadata) -> String {
        metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
