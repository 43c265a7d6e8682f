import ArgumentParser
import CreditCore
import CreditNode
import Foundation

/// `creditsync rights`: a clerk's desk for credit subjects' rights (`Protocol/rights.md`).
struct RightsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rights",
        abstract: "File objections (Article 39), restoration applications (Article 40) and list removals (Article 34); move cases on.",
        discussion: """
        Each request is answered at once with its case id and 'pending': the hub decides, and the \
        node shows the case as decided once the hub's fan-out brings it back (creditsync rights show).
        """,
        subcommands: [RightsObject.self, RightsRestore.self, RightsRemoveFromList.self, RightsStep.self, RightsShow.self])
}

/// The node and the clerk's token, shared by the desk commands.
struct DeskOptions: ParsableArguments {
    @Option(help: "The node's URL, e.g. http://127.0.0.1:8101.") var node: String
    @Option(help: "A file holding the clerk's provider token (only its first line is read).") var tokenFile: String

    func client() throws -> NodeClient {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).split(whereSeparator: \.isNewline).first.map(String.init) else {
            throw CommandError("cannot read a token from \(tokenFile)")
        }
        return NodeClient(nodeURL: node, token: token)
    }

    /// Sends a request and prints the node's answer; a refusal is printed to standard error and exits 1.
    func call(_ method: NodeClient.Method, _ path: String, _ body: [String: JSONValue]? = nil) async throws {
        do {
            let answer = try await client().send(method, path, json: body.map(JSONValue.object))
            print(String(decoding: answer, as: UTF8.self))
        } catch let failure as NodeClient.Failure {
            FileHandle.standardError.write(Data("\(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct RightsObject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "object", abstract: "File a subject's objection to a record held anywhere (Article 39).")
    @OptionGroup var desk: DeskOptions
    @Option(help: "The providing unit's credit code.") var provider: String
    @Option(help: "The catalog item.") var item: String
    @Option(help: "The record id.") var recordId: String
    @Option(help: "Who objects.") var applicant: String
    @Option(help: "What is wrong with the record.") var grounds: String

    func run() async throws {
        try await desk.call(.POST, "/v1/objections", ["provider": .string(provider), "item": .string(item), "recordId": .string(recordId),
                                                       "applicant": .string(applicant), "grounds": .string(grounds)])
    }
}

struct RightsRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "File a subject's application for credit restoration (Article 40).")
    @OptionGroup var desk: DeskOptions
    @Option(help: "The providing unit's credit code.") var provider: String
    @Option(help: "The catalog item.") var item: String
    @Option(help: "The record id.") var recordId: String
    @Option(help: "Who applies.") var applicant: String
    @Option(help: "How the subject corrected the conduct.") var statement: String

    func run() async throws {
        try await desk.call(.POST, "/v1/restorations", ["provider": .string(provider), "item": .string(item), "recordId": .string(recordId),
                                                         "applicant": .string(applicant), "statement": .string(statement)])
    }
}

struct RightsRemoveFromList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove-from-list",
                                                    abstract: "Remove one of your unit's records from the serious untrustworthiness list (Article 34).")
    @OptionGroup var desk: DeskOptions
    @Option(help: "The catalog item.") var item: String
    @Option(help: "The record id.") var recordId: String
    @Option(help: "Why the subject is removed.") var reason: String
    @Option(help: "The removal decision's document number.") var decisionDocument: String

    func run() async throws {
        try await desk.call(.POST, "/v1/records/\(NodeClient.segment(item))/\(NodeClient.segment(recordId))/list-removal",
                            ["reason": .string(reason), "decisionDocument": .string(decisionDocument)])
    }
}

struct RightsStep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step", abstract: "Move a case on: checks, checked, paused, resumed, upheld, rejected, granted, refused.")
    @OptionGroup var desk: DeskOptions
    @Argument(help: "The case id, e.g. 360700-12.") var caseId: String
    @Argument(help: "The step.") var event: String
    @Option(name: .customLong("unit"), help: "checks: a unit asked to check (repeat for each).") var units: [String] = []
    @Option(help: "checked: what your unit found.") var finding: String?
    @Option(help: "paused: inspection, testing, quarantine, evaluation or expert-review.") var cause: String?
    @Option(help: "upheld, rejected, granted, refused: why.") var reason: String?
    @Option(help: "The decision document, when there is one.") var decisionDocument: String?

    func run() async throws {
        var body: [String: JSONValue] = ["event": .string(event)]
        if !units.isEmpty { body["units"] = .array(units.map(JSONValue.string)) }
        if let finding { body["finding"] = .string(finding) }
        if let cause { body["cause"] = .string(cause) }
        if let reason { body["reason"] = .string(reason) }
        if let decisionDocument { body["decisionDocument"] = .string(decisionDocument) }
        try await desk.call(.POST, "/v1/cases/\(NodeClient.segment(caseId))/events", body)
    }
}

struct RightsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a case with its steps and the record's labels.")
    @OptionGroup var desk: DeskOptions
    @Argument(help: "The case id.") var caseId: String

    func run() async throws {
        try await desk.call(.GET, "/v1/cases/\(NodeClient.segment(caseId))")
    }
}
