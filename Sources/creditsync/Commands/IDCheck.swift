import ArgumentParser
import CreditCore
import Foundation

/// `creditsync id`: identifier tools.
struct IDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id", abstract: "Check resident identity numbers and unified social credit codes.",
        subcommands: [IDCheck.self])
}

/// `creditsync id check`: validates identifiers and says exactly why one is invalid.
struct IDCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate identifiers (Article 19).",
        discussion: "Exit code 0 when every value is valid, 1 when any is invalid, 2 on a usage error.")

    @Option(help: "resident-id or uscc; detected per value when omitted.")
    var kind: IdentifierKind?

    @Flag(help: "One JSON object per line, in input order.")
    var json = false

    @OptionGroup var data: DataOptions

    @Argument(help: "The values to check.")
    var values: [String]

    func validate() throws {
        if values.isEmpty { throw ValidationError("give at least one value to check") }
    }

    func run() async throws {
        let reference = try data.load()
        let context = reference.identifierContext(today: try data.currentDate())
        var allValid = true
        for value in values {
            let result = IdentifierCheck.check(value, as: kind, context: context)
            allValid = allValid && result.valid
            print(json ? jsonLine(result) : Self.describe(result))
        }
        if !allValid { throw ExitCode(1) }
    }

    static func describe(_ r: IdentifierCheck) -> String {
        guard r.valid, let normalized = r.normalized else {
            return "\(r.input)\tinvalid\t\(r.kind.rawValue)\t\(r.reason ?? "")"
        }
        let d = r.details ?? [:]
        let facts: String = switch r.kind {
        case .residentID:
            [d["sex"], d["birthDate"].map { "born \($0)" }, d["divisionName"] ?? d["division"], d["convertedFrom"].map { "converted from \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
        case .uscc:
            [d["registrationAuthority"], d["organizationType"], d["division"].map { "division \($0)" }].compactMap { $0 }.joined(separator: ", ")
        }
        let warning = r.warning.map { "\twarning: \($0)" } ?? ""
        return "\(r.input)\tvalid\t\(r.kind.rawValue)\t\(normalized)\t\(facts)\(warning)"
    }
}

extension IdentifierKind: ExpressibleByArgument {}
