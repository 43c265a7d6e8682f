import CreditTesting
import Foundation
import Testing

/// `object` has every required member of the OpenAPI schema `name` in
/// `Protocol/provider-api.openapi.json` and no member it does not list: the answers an
/// independent client reads are the ones the document describes.
func expectDocumentedShape(_ object: [String: Any], of name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let document = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.protocolFile("provider-api.openapi.json"))) as? [String: Any]
    let schema = ((document?["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any] ?? [:]
    let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
    let required = Set(schema["required"] as? [String] ?? [])
    #expect(!properties.isEmpty, "no schema \(name)", sourceLocation: sourceLocation)
    #expect(required.isSubset(of: Set(object.keys)), "\(name) lacks \(required.subtracting(object.keys).sorted())", sourceLocation: sourceLocation)
    #expect(Set(object.keys).isSubset(of: properties), "\(name) has undocumented \(Set(object.keys).subtracting(properties).sorted())",
            sourceLocation: sourceLocation)
}
