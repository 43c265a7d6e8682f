import CreditCore
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import Testing

@Suite struct NodeStoreTests {
    @Test func fileStoreUsesWALWithSynchronousFull() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try NodeStore(path: dir.appendingPathComponent("node.sqlite").path)
        #expect(try store.journalMode() == "wal")
        #expect(try store.synchronousSetting() == 2) // FULL, not GRDB's NORMAL
        // Still FULL after writes.
        let fixture = try NodeFixture(path: dir.appendingPathComponent("other.sqlite").path)
        _ = try fixture.service.submit(fixture.punishments(0..<3), by: fixture.identity)
        #expect(try fixture.service.store.synchronousSetting() == 2)
    }

    @Test func writesAreLoggedWithTheirTreeAndDuplicatesAreNot() throws {
        let f = try NodeFixture()
        let records = f.punishments(0..<5)
        let first = try f.service.submit(records, by: f.identity)
        #expect(first.map(\.status) == Array(repeating: .accepted, count: 5))
        #expect(first.map(\.sequence) == [1, 2, 3, 4, 5])
        let again = try f.service.submit(records, by: f.identity)
        #expect(again.map(\.status) == Array(repeating: .duplicate, count: 5))
        #expect(again.map(\.sequence) == first.map(\.sequence))
        // The stored frontier is the tree of the logged changes.
        let changes = try f.service.store.changes(after: 0, limit: 100, maxBytes: 1 << 30)
        #expect(changes.count == 5)
        let tree = MerkleTree(leafHashes: changes.map { MerkleHash.leaf($0) })
        #expect(try f.service.store.logHead() == tree.head)
        #expect(try changes.enumerated().allSatisfy { try Change(decoding: $0.element).sequence == UInt64($0.offset + 1) })
    }

    @Test func aChangedResubmissionIsANewVersion() throws {
        let f = try NodeFixture()
        var record = f.punishments(0..<1)[0]
        _ = try f.service.submit([record], by: f.identity)
        if case var .object(o) = record, case var .object(fields)? = o["fields"] {
            fields["CF_NR"] = .string("罚款5000元")
            o["fields"] = .object(fields)
            record = .object(o)
        }
        let second = try f.service.submit([record], by: f.identity)[0]
        #expect(second.status == .accepted)
        #expect(second.version == 2)
        #expect(second.sequence == 2)
        // Each version's record is kept once, in its log entry, and read back from there.
        let detail = try #require(try f.service.store.record(RecordKey(provider: f.identity.unit, item: second.item!, recordId: second.recordId!)))
        func amount(_ record: JSONValue?) -> JSONValue? { record?.objectValue?["fields"]?.objectValue?["CF_NR"] }
        #expect(detail.history.count == 2)
        #expect(amount(detail.history[1].record) == .string("罚款5000元"))
        #expect(amount(detail.history[0].record) != nil && amount(detail.history[0].record) != amount(detail.history[1].record))
        #expect(amount(detail.record) == .string("罚款5000元"))
    }

    @Test func historyAndLogAreAppendOnly() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("node.sqlite").path
        let f = try NodeFixture(path: path)
        let result = try f.service.submit(f.punishments(0..<1), by: f.identity)[0]
        _ = try f.service.read(provider: f.identity.unit, item: result.item!, recordId: result.recordId!, purpose: "test", by: f.identity)
        // Even with SQL access, the log, history and audit refuse changes.
        for sql in ["DELETE FROM log_entry", "UPDATE record_version SET reason = 'x'", "DELETE FROM audit"] {
            #expect(throws: (any Error).self) { try f.service.store.executeForTesting(sql) }
        }
    }
}
