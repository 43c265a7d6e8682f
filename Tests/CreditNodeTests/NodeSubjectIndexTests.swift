import CreditCore
@testable import CreditNode
import CreditTesting
import Foundation
import GRDB
import SyncProtocol
import Testing

/// The node's subject index (Articles 19 and 33) through new versions and its two levels.
@Suite struct NodeSubjectIndexTests {
    let unit = "11360100000001001X"

    func write(_ recordId: String, _ operation: ChangeOperation = .create, subject: String, persons: [(String, String)],
               note: String = "") -> PreparedWrite {
        PreparedWrite(key: RecordKey(provider: unit, item: "administrative-punishment", recordId: recordId), operation: operation,
                      payload: Array(#"{"note":"\#(note)","subject":"\#(subject)"}"#.utf8), subjectKey: subject, subjectName: "某公司",
                      otherSubjects: persons.map { (key: $0.0, role: $0.1) }, recordClass: "general",
                      reason: operation.isCorrection ? "复议变更" : "", decisionDocument: operation.isCorrection ? "洪复决〔2026〕9号" : "",
                      effectiveAt: 1_790_000_000_000)
    }

    func recent(_ store: NodeStore) throws -> Int {
        try store.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM subject_index_recent") ?? -1 }
    }

    @Test func entriesFollowEveryVersionThroughBothLevels() throws {
        let store = try NodeStore(path: nil, subjectFoldThreshold: 6)
        func save(_ w: PreparedWrite) throws { _ = try store.write([w], node: "360100", credential: "c", catalogVersion: "v", acceptedAt: 1) }
        try save(write("R1", subject: "uscc:S1", persons: [("resident-id:P1", "legal"), ("resident-id:P2", "manager")]))
        #expect(try store.records(subject: "resident-id:P2").map(\.role) == ["manager"])
        #expect(try recent(store) == 3)
        try store.foldSubjectIndex()
        #expect(try recent(store) == 0)
        // A correction replaces P2 by P3, whichever level each entry is in.
        try save(write("R1", .correct, subject: "uscc:S1", persons: [("resident-id:P1", "legal"), ("resident-id:P3", "manager")], note: "更正"))
        #expect(try store.records(subject: "resident-id:P2").isEmpty)
        #expect(try store.records(subject: "resident-id:P3").map(\.version) == [2])
        #expect(try store.records(subject: "uscc:S1").map(\.recordId) == ["R1"])
        // Enough new entries fold by themselves.
        for i in 2...4 { try save(write("R\(i)", subject: "uscc:S\(i)", persons: [])) }
        #expect(try recent(store) == 4)
        try save(write("R5", subject: "uscc:S5", persons: [("resident-id:P1", "legal")]))
        #expect(try recent(store) == 0)
        #expect(try store.records(subject: "resident-id:P1").map(\.recordId) == ["R1", "R5"])
        // The current record shows its latest content.
        let detail = try #require(try store.record(RecordKey(provider: unit, item: "administrative-punishment", recordId: "R1")))
        #expect(detail.record.objectValue?["note"] == .string("更正"))
        #expect(detail.history.count == 2)
    }

    /// The record row keeps only the storage key; provider, item and record id are read back from
    /// it, a record id with slashes included, and a subject's records come back by item, then key.
    @Test func keysAreReadBackFromTheStorageKey() throws {
        let store = try NodeStore(path: nil)
        func save(_ w: PreparedWrite) throws { _ = try store.write([w], node: "360100", credential: "c", catalogVersion: "v", acceptedAt: 1) }
        try save(write("洪市监罚/2026/7", subject: "uscc:S1", persons: []))
        try save(write("A-1", subject: "uscc:S1", persons: []))
        let listed = try store.records(subject: "uscc:S1")
        #expect(listed.map(\.recordId) == ["A-1", "洪市监罚/2026/7"])
        #expect(listed.allSatisfy { $0.provider == unit && $0.item == "administrative-punishment" })
        let detail = try #require(try store.record(RecordKey(provider: unit, item: "administrative-punishment", recordId: "洪市监罚/2026/7")))
        #expect(detail.recordId == "洪市监罚/2026/7")
        #expect(RecordKey(storageKey: "\(unit)/administrative-punishment/a/b") == RecordKey(provider: unit, item: "administrative-punishment", recordId: "a/b"))
    }
}
