import ArgumentParser
import CreditCore
import CreditData
import Foundation

/// `creditsync catalog`: the credit information catalog.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Inspect and check the credit information catalog.",
        subcommands: [CatalogValidate.self, CatalogList.self, CatalogShow.self])
}

/// `creditsync catalog validate`: checks the catalog in force, or a layer file against it.
struct CatalogValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the catalog in force, or catalog layer files added to it.",
        discussion: """
        With no file, checks the bundled catalog and any --data overlays. With files, adds each \
        supplement (provincial or city layer) to the catalog in force, or replaces the national \
        layer with a national file, and checks the result. Exit 1 when refused.
        """)

    @Argument(help: "Catalog layer files (JSON).")
    var files: [String] = []

    @Flag(help: "Print a JSON object.")
    var json = false

    @OptionGroup var data: DataOptions

    struct Output: Encodable {
        var valid: Bool
        var version: String?
        var items: Int?
        var error: String?
    }

    func run() async throws {
        var layers = try data.load().catalog.layers
        let result: Result<Catalog, any Error>
        do {
            for file in files {
                let url = URL(fileURLWithPath: file)
                let bytes: Data
                do { bytes = try Data(contentsOf: url) } catch { throw CommandError("cannot read \(file): \(error.localizedDescription)") }
                let layer = try Catalog.decodeLayer(bytes, source: file)
                layers.removeAll { $0.id == layer.id || (layer.layer == .national && $0.layer == .national) }
                layers.append(layer)
            }
            result = .success(try Catalog(layers: layers))
        } catch {
            result = .failure(error)
        }
        switch result {
        case let .success(catalog):
            if json {
                print(jsonLine(Output(valid: true, version: catalog.version, items: catalog.items.count)))
            } else {
                print("valid: catalog \(catalog.version), \(catalog.items.count) items")
            }
        case let .failure(error):
            if json { print(jsonLine(Output(valid: false, error: "\(error)"))) } else { print("refused: \(error)") }
            throw ExitCode(1)
        }
    }
}

/// `creditsync catalog list`: the items in force.
struct CatalogList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the catalog's items.")

    @OptionGroup var data: DataOptions

    func run() async throws {
        let catalog = try data.load().catalog
        print("catalog \(catalog.version)")
        for item in catalog.items {
            let required = item.fields.filter(\.required).count
            print("\(item.code)\t\(item.category.rawValue)\t\(item.name)\t\(item.fields.count) fields (\(required) required)\t\(item.disclosure.rawValue)")
        }
    }
}

/// `creditsync catalog show ITEM`: what a provider must send for an item, field by field.
struct CatalogShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an item's fields: name, label, type, required, values and codes.")

    @Argument(help: "The item's code (see catalog list).") var item: String
    @Flag(help: "Print the item's JSON as the catalog defines it.") var json = false
    @OptionGroup var data: DataOptions

    func run() async throws {
        let catalog = try data.load().catalog
        guard let item = catalog.item(item) else {
            throw CommandError("no item '\(self.item)' in catalog \(catalog.version); see creditsync catalog list")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(item), as: UTF8.self))
            return
        }
        print("\(item.code)  \(item.name) (\(item.title))")
        print("category \(item.category.rawValue), disclosure \(item.disclosure.rawValue), subjects \(item.subjectKinds.map(\.rawValue).joined(separator: ", "))")
        print("basis: \(item.basis)")
        print("decision date: fields.\(item.decisionDateField)\n")
        let rows = item.fields.map { f -> [String] in
            let required = f.required ? "required" : f.requiredFor.map { "required for " + $0.map(\.rawValue).joined(separator: ", ") } ?? ""
            var values = f.values?.joined(separator: " | ") ?? ""
            if let codes = f.codes { values += "  (codes: " + codes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")" }
            if let max = f.maxLength { values += "max \(max) characters" }
            if let scale = f.scale { values += "at most \(scale) decimals" }
            return [f.name, f.label, f.type.rawValue, required, values]
        }
        let widths = (0..<4).map { c in (rows.map { $0[c].displayWidth } + [4]).max()! + 2 }
        for row in rows {
            print((0..<4).map { row[$0].padded(toDisplayWidth: widths[$0]) }.joined() + row[4])
        }
    }
}
