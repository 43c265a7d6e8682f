import CreditCore
import CreditHub
import CreditTesting
import Foundation
import SyncProtocol
import Testing

/// `Protocol/vectors/rights.json`'s scenario against the real hub: signed change sets, one per
/// change, in the listed order; each change's effect and every case's final state as the spec says.
@Suite struct RightsVectorTests {
    struct Vectors: Decodable {
        struct Scenario: Decodable {
            struct Step: Decodable {
                var node, operation, item, recordId, payload, reason, decisionDocument, expect: String
                var sequence: UInt64
                /// For operations 1–3: the record, whose canonical form is the payload.
                var record: JSONValue?
            }
            var name, home, provider: String
            var records: [JSONValue]
            var changes: [Step]
            var cases: [String: String]
        }
        var scenarios: [Scenario]
    }

    @Test func theScenarioEndsAsTheSpecSays() async throws {
        let vectors = try Fixtures.vectors("rights.json", as: Vectors.self)
        for scenario in vectors.scenarios {
            let h = try HubFixture()
            var keys: [String: SigningKey] = [:], frontiers: [String: MerkleFrontier] = [:]
            for node in Set([scenario.home] + scenario.changes.map(\.node)) {
                keys[node] = SyncFixtures.key("node-\(node)")
                // Each node's own area (merge.md §1), as an implementation reading the vectors has it.
                try h.enroll(node, key: keys[node]!, areas: [])
            }
            let at = UInt64(NodeFixture.now.timeIntervalSince1970 * 1000)
            func push(_ change: Change) async throws {
                let node = change.node
                let set = try ChangeSet(node: node, keyId: keys[node]!.keyId, encodedChanges: [change.encoded], before: frontiers[node] ?? MerkleFrontier(),
                                        createdAt: at)
                _ = try await h.hub.ingest(node: node, envelope: try set.signed(with: keys[node]!).encoded)
                var frontier = frontiers[node] ?? MerkleFrontier()
                frontier.append(leafHash: change.leafHash)
                frontiers[node] = frontier
            }
            for (i, json) in scenario.records.enumerated() {
                let record = try #require(Fixtures.validator.validate(json).accepted, "\(scenario.name): record \(i) is invalid")
                try await push(Change(node: scenario.home, sequence: UInt64(i + 1),
                                      key: RecordKey(provider: scenario.provider, item: record.item.code, recordId: record.record.recordId),
                                      operation: .create, credential: "c", effectiveAt: at, acceptedAt: at,
                                      catalogVersion: Fixtures.reference.catalog.version, payload: record.canonicalJSON))
            }
            #expect(try h.store.refusals().isEmpty, "\(scenario.name): the records are valid")
            for step in scenario.changes {
                let operation = try #require(ChangeOperation.allCases.first { $0.name == step.operation })
                var payload = Array(step.payload.utf8)
                if let record = step.record { payload = try #require(Fixtures.validator.validate(record).accepted).canonicalJSON }
                let change = Change(node: step.node, sequence: step.sequence, key: RecordKey(provider: scenario.provider, item: step.item, recordId: step.recordId),
                                    operation: operation, credential: "c", reason: step.reason, decisionDocument: step.decisionDocument,
                                    effectiveAt: at, acceptedAt: at, catalogVersion: Fixtures.reference.catalog.version, payload: payload)
                let (logBefore, refusalsBefore) = (try h.store.hubHead().size, try h.store.refusals(limit: 1000).count)
                try await push(change)
                let refusals = try h.store.refusals(limit: 1000)
                let effect = try h.store.hubHead().size == logBefore + 1 ? "effective"
                    : refusals.count == refusalsBefore + 1 ? "refused:\(refusals[0].code)" : "nothing"
                #expect(effect == step.expect, "\(scenario.name): \(step.node)#\(step.sequence) \(step.payload) → \(effect) (\(refusals.first?.message ?? ""))")
            }
            for (id, state) in scenario.cases {
                #expect(try h.store.rightsCase(id)?.rightsCase.state.rawValue == state, "\(scenario.name): case \(id)")
            }
            let held = try h.store.rightsCases(receivedFrom: nil, to: nil).map(\.rightsCase.id)
            #expect(Set(held) == Set(scenario.cases.keys), "\(scenario.name): no other case was opened")
        }
    }

    /// rights.md §5: a node cannot date an objection before its record existed — a `filed`
    /// dated ten months back had put the other city's unit in breach at once.
    @Test func anObjectionIsNeverDatedBeforeItsRecord() async throws {
        let h = try HubFixture()
        let keys = ["360100": SyncFixtures.key("node-360100"), "360700": SyncFixtures.key("node-360700")]
        for (node, key) in keys { try h.enroll(node, key: key) }
        let at = UInt64(NodeFixture.now.timeIntervalSince1970 * 1000)
        let nanchang = try NodeFixture(node: "360100")
        let record = try #require(Fixtures.validator.validate(nanchang.punishments(0..<1)[0]).accepted)
        let key = RecordKey(provider: nanchang.generator.regulatorCode, item: record.item.code, recordId: record.record.recordId)
        func push(_ change: Change) async throws {
            let set = try ChangeSet(node: change.node, keyId: keys[change.node]!.keyId, encodedChanges: [change.encoded], before: MerkleFrontier(), createdAt: at)
            _ = try await h.hub.ingest(node: change.node, envelope: try set.signed(with: keys[change.node]!).encoded)
        }
        try await push(Change(node: "360100", sequence: 1, key: key, operation: .create, credential: "c", effectiveAt: at, acceptedAt: at,
                              catalogVersion: Fixtures.reference.catalog.version, payload: record.canonicalJSON))
        let tenMonthsEarlier = at - 300 * 86_400_000
        try await push(Change(node: "360700", sequence: 1, key: key, operation: .objectionLabel, credential: "c", effectiveAt: tenMonthsEarlier,
                              acceptedAt: tenMonthsEarlier, catalogVersion: Fixtures.reference.catalog.version,
                              payload: Array(#"{"applicant":"甲","event":"filed","grounds":"金额有误"}"#.utf8)))
        let opened = try #require(try h.store.rightsCases(receivedFrom: nil, to: nil).first)
        #expect(opened.rightsCase.openedAt == at, "opened at \(opened.rightsCase.openedAt), the record was made at \(at)")
        #expect(try h.hub.snapshot().rights.allSatisfy { $0.state != .breached })
    }
}
