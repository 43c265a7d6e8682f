import ArgumentParser
import CreditCore
import Foundation

/// `creditsync record`: records against the catalog.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Validate credit records.", subcommands: [RecordValidate.self])
}

/// `creditsync record validate`: validates a JSON record or array of records.
struct RecordValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate a JSON record, or an array of records, against the catalog.",
        discussion: "Every problem of every record is reported with its field. Exit 1 when any record is invalid.")

    @Argument(help: "A JSON file holding one record or an array of records; '-' reads standard input.")
    var file: String

    @Flag(help: "One JSON object per record, per line.")
    var json = false

    @OptionGroup var data: DataOptions

    struct Output: Encodable {
        var index: Int
        var recordId: String?
        var item: String?
        var valid: Bool
        var errors: [ValidationIssue]
        var warnings: [ValidationIssue]
        var recordClass: String?
        var lenient: Bool?
        var display: DisplayAssessment?
        var subjectKeys: [String]?
    }

    func run() async throws {
        let bytes: Data
        do {
            bytes = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CommandError("cannot read \(file): \(error.localizedDescription)")
        }
        let parsed: JSONValue
        // The node's parser, so that a file is valid here exactly when the node would take it
        // (a key given twice is refused; numbers keep their text).
        do { parsed = try JSONValue.parseFile(Array(bytes)) } catch {
            throw CommandError("\(file) is not valid JSON: \(error)")
        }
        let records: [JSONValue] = if case let .array(list) = parsed { list } else { [parsed] }
        let validator = try data.load().validator(today: try data.currentDate())
        var invalid = 0
        for (index, record) in records.enumerated() {
            let v = validator.validate(record)
            if !v.isValid { invalid += 1 }
            let out = Output(index: index, recordId: v.recordId, item: v.item, valid: v.isValid, errors: v.issues,
                             warnings: v.warnings, recordClass: v.accepted?.classification.recordClass.rawValue,
                             lenient: v.accepted?.classification.lenient, display: v.accepted?.display,
                             subjectKeys: v.accepted?.subjectKeys)
            if json { print(jsonLine(out)); continue }
            let name = "record \(index + 1)" + (v.recordId.map { " (\($0))" } ?? "")
            if let accepted = v.accepted {
                var line = "\(name): valid, \(accepted.classification.recordClass.rawValue)"
                if let w = accepted.display.window {
                    line += ", displayed \(w.start) to \(w.latestEnd) at most (\(w.rule))"
                } else {
                    line += "; \(accepted.display.note)"
                }
                if accepted.classification.lenient, let reason = accepted.classification.lenientReason { line += "; lenient: \(reason)" }
                print(line)
            } else {
                print("\(name): invalid")
                for issue in v.issues { print("  \(issue.field): \(issue.message)") }
            }
            for warning in v.warnings { print("  warning \(warning.field): \(warning.message)") }
        }
        if !json { print("\(records.count - invalid) of \(records.count) valid") }
        if invalid > 0 { throw ExitCode(1) }
    }
}
