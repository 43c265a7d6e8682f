import CreditCore
@testable import CreditNode
import CreditStorage
import CreditTesting
import Foundation
import GRDB
import SyncProtocol
import Testing

/// A node keeps its log and the records the hub sent compressed (``StoredPayload``), and reads
/// them back exactly: the log's leaves still hash the encoded changes, the history shows the records.
@Suite struct NodeStoredPayloadTests {
    @Test func theLogAndFannedOutRecordsAreStoredCompressedAndReadBackExactly() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Node A logs 50 records; node B files them as the fan-out brings them.
        let a = try NodeFixture(path: dir.appendingPathComponent("a.sqlite").path)
        let records = a.punishments(0..<50)
        _ = try a.service.submit(records, by: a.identity)
        let changes = try a.service.store.changes(after: 0, limit: 100, maxBytes: 1 << 30)
        #expect(changes.count == 50)
        #expect(try a.service.store.logHead() == MerkleTree(leafHashes: changes.map { MerkleHash.leaf($0) }).head)

        let bPath = dir.appendingPathComponent("b.sqlite").path
        let b = try NodeFixture(node: "360200", path: bPath)
        let writes = try changes.enumerated().map { i, bytes in
            let change = try Change(decoding: bytes)
            return RemoteWrite(position: UInt64(i + 1), change: change, prepared: Receiver.prepare(change, data: Fixtures.reference))
        }
        try b.service.store.applyFanOut(writes, through: 50, hubHead: TreeHead(size: 50, root: MerkleHash.empty), at: 1)

        // Every stored byte string is a frame of dictionary 1, smaller than what it holds.
        let encoded = changes.reduce(0) { $0 + $1.count }
        let payloads = try writes.reduce(0) { $0 + $1.change.payload.count }
        let logged = try DatabaseQueue(path: dir.appendingPathComponent("a.sqlite").path).read { db in
            try Data.fetchAll(db, sql: "SELECT change FROM log_entry")
        }
        let filed = try DatabaseQueue(path: bPath).read { db in
            try Data.fetchAll(db, sql: "SELECT payload FROM record_version")
        }
        #expect(logged.count == 50 && filed.count == 50)
        #expect((logged + filed).allSatisfy { $0.first == 1 })
        #expect(logged.reduce(0) { $0 + $1.count } * 4 < encoded * 3)
        #expect(filed.reduce(0) { $0 + $1.count } * 4 < payloads * 3)

        // Both nodes show the record as it was written, in the current state and in the history.
        for (i, record) in records.enumerated() {
            let key = RecordKey(provider: a.identity.unit, item: "administrative-punishment",
                                recordId: record.objectValue!["recordId"]!.stringValue!)
            let sent = try JSONValue.parse(writes[i].change.payload)
            for store in [a.service.store, b.service.store] {
                let detail = try #require(try store.record(key))
                #expect(detail.record == sent)
                #expect(detail.history.map(\.record) == [sent])
            }
        }
    }
}
