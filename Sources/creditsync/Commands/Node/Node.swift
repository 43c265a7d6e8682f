import ArgumentParser

/// `creditsync node`: the city or county platform's daemon and its tools.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a node daemon, manage its provider credentials, verify its store.",
        subcommands: [NodeRun.self, NodeProvider.self, NodeVerify.self],
        defaultSubcommand: NodeRun.self)
}
