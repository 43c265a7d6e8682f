import CreditCore
@testable import CreditNode
import Testing

/// The batch answer is written directly; it must be byte for byte what the general writer makes.
@Suite struct SubmitResultJSONTests {
    @Test func writtenDirectlyAsTheGeneralWriterWould() {
        let issue = ValidationIssue(field: "fields.CF_WSH", code: "required", message: "决定文书号 \"CF_WSH\" is required\n")
        let results: [NodeService.SubmitResult] = [
            .init(index: 0, recordId: "CF-1", item: "administrative-punishment", status: .accepted, sequence: 12, version: 1),
            .init(index: 1, recordId: nil, item: nil, status: .rejected, errors: [issue, issue]),
            .init(index: 2, recordId: "CF-2", item: "x", status: .duplicate, sequence: 3, version: 2, warnings: [issue]),
            .init(index: 3, recordId: "r", item: "i", status: .rejected, errors: [issue], warnings: [issue]),
        ]
        for result in results {
            var bytes: [UInt8] = []
            result.writeJSON(into: &bytes)
            #expect(bytes == result.jsonValue.serializedBytes, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }
}
