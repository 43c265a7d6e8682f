import ArgumentParser
import CreditCore
import CreditHub
import Foundation

extension HubNode {
    struct Area: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Widen or narrow the providing units a node may write records for.",
            discussion: """
                A node writes only for units of its own area (Protocol/merge.md §1): the division code in the unit's \
                credit code (characters 3–8) is the node's, or, for a districted city's node, one of its counties'. \
                --add 3600 lets the node also write for units whose division code starts with 3600 (the provincial \
                departments, say, through the capital's node). Without options, prints the node's area.
                """)
        @Option(help: "The hub's configuration file.") var config: String
        @Option(help: "The node's id.") var id: String
        @Option(help: "Comma-separated division-code prefixes (2 to 6 digits) to add.") var add: String?
        @Option(help: "Comma-separated prefixes to remove.") var remove: String?

        func run() async throws {
            let (_, store) = try openHubStore(configPath: config)
            func list(_ text: String?) -> [String] { (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            let area: ProvidingArea
            do {
                if add == nil && remove == nil {
                    guard try store.nodeStatus(id) != nil else { throw CommandError("no node \(id)") }
                    area = try store.providingArea(id)
                } else {
                    area = try store.changeArea(node: id, add: list(add), remove: list(remove), at: Date())
                }
            } catch let error as CommandError { throw error } catch { throw CommandError("\(error)") }
            print("node \(id) writes records for units of \(area)")
        }
    }
}
