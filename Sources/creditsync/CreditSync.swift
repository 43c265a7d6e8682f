import ArgumentParser
import CreditCore
import Foundation

/// `creditsync`: one binary for every role in the federation. Each subcommand lives in its own
/// file under `Commands/` and only parses options and calls library code.
@main
struct CreditSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creditsync",
        abstract: "Federated synchronization of Jiangxi public credit information.",
        discussion: """
        Exit codes: 0 all valid, 1 something invalid (or a command failed), 2 usage error.
        """,
        version: BuildInfo.version,
        subcommands: [Demo.self, DeployCommand.self, HubCommand.self, NodeCommand.self, Status.self, Backup.self, Restore.self, Digest.self, Simulate.self, CheckConfig.self, IDCommand.self, CalendarCommand.self, CatalogCommand.self, RecordCommand.self, Submit.self, Refused.self, RightsCommand.self, ReportCommand.self, Keygen.self]
    )

    /// Parses and runs, mapping usage errors to exit code 2 as the CLI promises (the argument
    /// parser's default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot(Array(ProcessArguments.current.dropFirst()))
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            } else {
                exit(withError: error)
            }
        }
    }
}
