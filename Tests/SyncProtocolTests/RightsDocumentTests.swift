import CreditCore
import CreditTesting
import Foundation
import SyncProtocol
import Testing

/// `Protocol/vectors/rights.json`'s documents: each is read as `Protocol/rights.md` §2 says, or
/// refused with its code and field.
@Suite struct RightsDocumentTests {
    struct Vectors: Decodable {
        struct Document: Decodable {
            var name, operation, provider, payload, reason, decisionDocument: String
            var valid: Bool
            var code, field: String?
        }
        var documents: [Document]
    }

    @Test func everyDocumentVector() throws {
        let vectors = try Fixtures.vectors("rights.json", as: Vectors.self)
        #expect(vectors.documents.count >= 30)
        for d in vectors.documents {
            let operation = try #require(ChangeOperation.allCases.first { $0.name == d.operation })
            let change = Change(node: "360700", sequence: 1, key: RecordKey(provider: d.provider, item: "administrative-punishment", recordId: "P1"),
                                operation: operation, credential: "c", reason: d.reason, decisionDocument: d.decisionDocument,
                                effectiveAt: 0, acceptedAt: 0, catalogVersion: "national@2026.1", payload: Array(d.payload.utf8))
            do {
                let event = try RightsEvent(change, identifiers: Fixtures.identifiers)
                #expect(d.valid, "\(d.name): read, but the vector says \(d.code ?? "")/\(d.field ?? "")")
                #expect(event.payload == change.payload, "\(d.name): a valid document is its own canonical form")
            } catch {
                #expect(!d.valid, "\(d.name): refused \(error)")
                #expect(error.code == d.code && error.field == d.field, "\(d.name): \(error)")
            }
        }
    }

    @Test func aCaseMovesAsTheTableOfSection4Says() throws {
        func change(_ sequence: UInt64, _ op: ChangeOperation, _ payload: String, reason: String = "") -> Change {
            Change(node: "360100", sequence: sequence, key: RecordKey(provider: "121200004013590816", item: "administrative-punishment", recordId: "P1"),
                   operation: op, credential: "c", reason: reason, effectiveAt: 0, acceptedAt: sequence * 86_400_000,
                   catalogVersion: "national@2026.1", payload: Array(payload.utf8))
        }
        let filed = change(1, .objectionLabel, #"{"applicant":"甲","event":"filed","grounds":"乙"}"#)
        var c = RightsCase(opening: try RightsEvent(filed, identifiers: nil), of: filed, at: filed.acceptedAt)
        #expect(c.id == "360100-1" && c.kind == .objection && c.state == .open && c.labels)
        for (i, (op, payload, reason)) in [(ChangeOperation.objectionLabel, #"{"case":"360100-1","cause":"testing","event":"paused"}"#, ""),
                                            (.objectionLabel, #"{"case":"360100-1","event":"resumed"}"#, ""),
                                            (.objectionOutcome, #"{"case":"360100-1","event":"upheld"}"#, "成立")].enumerated() {
            let next = change(UInt64(i + 2), op, payload, reason: reason)
            c.apply(try RightsEvent(next, identifiers: nil), of: next, at: next.acceptedAt)
        }
        #expect(c.state == .upheld && !c.labels && c.closedAt == 4 * 86_400_000)
        #expect(c.pauses == [RightsCase.Pause(cause: "testing", from: 2 * 86_400_000, to: 3 * 86_400_000)])
        #expect(try RightsCase(stored: try c.stored) == c)
    }
}
