import ArgumentParser
import CreditNode

/// `creditsync refused`: the provider's record writes the hub refused after its node took them.
struct Refused: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the unit's record writes the hub refused after the node acknowledged them (GET /v1/refusals).",
        discussion: """
        A write the node answered 'accepted' can still be refused by the hub: another node keeps \
        the record (a race), the record was revoked first, or the hub's catalog does not take it \
        (Protocol/merge.md §3). Prints the node's JSON answer: each refusal with its sequence, \
        record, code, field and message, and 'learnedThrough', the sequence up to which the hub's \
        word is known (a write up to it that is not listed became the province's version).
        """)

    @OptionGroup var desk: DeskOptions
    @Option(help: "List only writes with a sequence after this one (the last one listed before, to page).") var after: UInt64 = 0

    func run() async throws {
        try await desk.call(.GET, "/v1/refusals?after=\(after)")
    }
}
