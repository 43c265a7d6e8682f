import ArgumentParser
import CreditNode
import Foundation
import SyncProtocol

/// `creditsync report`: a credit subject's self-enquiry report (Article 38), as JSON, HTML or a
/// printed PDF; `creditsync report verify` checks one later against the hub's public key.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a credit subject's self-enquiry report (Article 38): JSON, HTML or PDF.",
        discussion: """
        The report lists every record the node holds about the subject, with its sources, every \
        change and its reason, and carries the hub's signed account of the same subject. Keep the \
        JSON: 'creditsync report verify' checks it against the hub's public key at any later time.
        """,
        subcommands: [ReportFetch.self, ReportVerify.self], defaultSubcommand: ReportFetch.self)
}

struct ReportFetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fetch", abstract: "Fetch a subject's report from a node.")
    @OptionGroup var desk: DeskOptions
    @Option(help: "The subject key: uscc:CODE, resident-id:NUMBER or document:TYPE:NUMBER.") var subject: String
    @Option(help: "Write the JSON report here (standard output when no file is asked for).") var json: String?
    @Option(help: "Write the printable HTML here.") var html: String?
    @Option(help: "Print the report to this PDF with headless Chromium.") var pdf: String?

    func run() async throws {
        let client = try desk.client()
        let path = "/v1/subjects/\(NodeClient.segment(subject))/report"
        do {
            let report = try await client.send(.GET, path)
            if let json { try Data(report).write(to: URL(fileURLWithPath: json)) }
            if html != nil || pdf != nil {
                let page = String(decoding: try await client.send(.GET, path, accept: "text/html"), as: UTF8.self)
                if let html { try Data(page.utf8).write(to: URL(fileURLWithPath: html)) }
                if let pdf { try ReportPrinter.print(html: page, to: URL(fileURLWithPath: pdf)) }
            }
            if json == nil, html == nil, pdf == nil { print(String(decoding: report, as: UTF8.self)) }
        } catch let failure as NodeClient.Failure {
            FileHandle.standardError.write(Data("\(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct ReportVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check a saved report's hub signature and its records against the hub's signed account.")
    @Option(name: .customLong("hub-key"), help: "The hub's public key file (repeat for each key in force).") var hubKeys: [String]
    @Argument(help: "The report, as JSON.") var path: String

    func validate() throws {
        if hubKeys.isEmpty { throw ValidationError("give the hub's public key with --hub-key") }
    }

    func run() async throws {
        let report = try CreditReport.read(Data(contentsOf: URL(fileURLWithPath: path)))
        var keys = KeyRegistry()
        for file in hubKeys { try keys.enroll(KeyFile.readPublic(URL(fileURLWithPath: file)), for: report.hubSignature?.hub ?? "") }
        let result: CreditReport.Verification
        do { result = try report.verify(hubKeys: keys) } catch {
            FileHandle.standardError.write(Data("the report's hub signature does not verify: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("\(result.status): \(result.note)")
        for (label, keys) in [("differing", result.differing), ("not at the hub", result.notAtHub), ("not in the report", result.missingHere)] where !keys.isEmpty {
            print("  \(label): \(keys.joined(separator: ", "))")
        }
        if result.status != "verified" { throw ExitCode(1) }
    }
}
