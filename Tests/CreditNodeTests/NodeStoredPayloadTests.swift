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
        let head = TreeHead(size: 50, root: MerkleHash.empty)
        let applied = try b.service.store.applyFanOut(writes, through: 50, hubHead: head, at: 1)
        // The state the apply hands back (a receiver at the head asks again with it) is what a read finds.
        #expect(applied.changed == 50)
        let read = try b.service.store.fanOutState()
        #expect(applied.state.applied == 50 && read.applied == 50)
        #expect(applied.state.pinned == head && read.pinned == head)
        #expect(applied.state.rightsAwaitingTheHub == read.rightsAwaitingTheHub && applied.state.rightsPending == read.rightsPending)

        // Every stored byte string is a frame of dictionary 1, smaller than what it holds.
        let encoded = changes.reduce(0) { $0 + $1.count }
        let payloads = writes.reduce(0) { $0 + $1.change.payload.count }
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

        #expect(try NodeVerifier.verify(path: dir.appendingPathComponent("a.sqlite").path, hubKeys: nil).ok)
        #expect(try NodeVerifier.verify(path: bPath, hubKeys: nil).ok)

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

    /// A damaged stored entry or record is reported once, by name, by the offline check, and the
    /// rest of the log is still checked: the tree goes on with the entry's stored leaf hash.
    @Test func damageInAStoredFrameIsReportedOnceByTheVerifier() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let aPath = dir.appendingPathComponent("a.sqlite").path, bPath = dir.appendingPathComponent("b.sqlite").path
        let a = try NodeFixture(path: aPath)
        _ = try a.service.submit(a.punishments(0..<20), by: a.identity)
        let changes = try a.service.store.changes(after: 0, limit: 100, maxBytes: 1 << 30)
        let b = try NodeFixture(node: "360200", path: bPath)
        let writes = try changes.enumerated().map { i, bytes in
            let change = try Change(decoding: bytes)
            return RemoteWrite(position: UInt64(i + 1), change: change, prepared: Receiver.prepare(change, data: Fixtures.reference))
        }
        try b.service.store.applyFanOut(writes, through: 20, hubHead: TreeHead(size: 20, root: MerkleHash.empty), at: 1)
        try a.service.store.close()
        try b.service.store.close()

        // One bit flipped in the middle of entry 7's frame, and of one record kept at B: what a
        // bad sector or a stray write does (the append-only triggers are dropped to do it).
        func flip(_ path: String, _ table: String, _ column: String, _ row: String) throws {
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "DROP TRIGGER IF EXISTS log_entry_append_only_u; DROP TRIGGER IF EXISTS version_append_only_u")
                let stored = try #require(try Data.fetchOne(db, sql: "SELECT \(column) FROM \(table) WHERE \(row)"))
                var damaged = stored
                damaged[damaged.count / 2] ^= 0x10
                try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE \(row)", arguments: [damaged])
            }
        }
        try flip(aPath, "log_entry", "change", "sequence = 7")
        try flip(bPath, "record_version", "payload", "record_key LIKE '%-2026-3'")

        let atA = try NodeVerifier.verify(path: aPath, hubKeys: nil)
        #expect(atA.problems.count == 1 && atA.problems[0].hasPrefix("log entry 7: stored payload is damaged"), "\(atA.problems)")
        #expect(atA.logSize == 20)
        let atB = try NodeVerifier.verify(path: bPath, hubKeys: nil)
        #expect(atB.problems.count == 1 && atB.problems[0].contains("CF-360100-2026-3 v1: stored payload is damaged"), "\(atB.problems)")
    }

    /// A pending rights change whose log entry no longer reads back is an error naming the entry,
    /// not a step left out: left out, the pending objection below would not stop a second one.
    @Test func aDamagedPendingRightsChangeIsAnErrorNotAStepLeftOut() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("node.sqlite").path
        let f = try NodeFixture(path: path, readScope: .all)
        _ = try f.service.submit(f.punishments(0..<3), by: f.identity)
        let filed = try f.service.fileObjection(provider: f.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-1",
                                                applicant: "某公司", grounds: "金额有误", by: f.identity)
        let sequence = Int64(filed.sequence)
        try f.service.store.close()
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS log_entry_append_only_u")
            var stored = try #require(try Data.fetchOne(db, sql: "SELECT change FROM log_entry WHERE sequence = ?", arguments: [sequence]))
            stored[stored.count / 2] ^= 0x10
            try db.execute(sql: "UPDATE log_entry SET change = ? WHERE sequence = ?", arguments: [stored, sequence])
        }

        let reopened = try NodeFixture(path: path, readScope: .all)
        let logged = try reopened.service.store.logHead().size
        let again: (any Error)? = { do { _ = try reopened.service.fileObjection(
            provider: reopened.identity.unit, item: "administrative-punishment", recordId: "CF-360100-2026-1",
            applicant: "某公司", grounds: "金额有误", by: reopened.identity); return nil } catch { return error } }()
        #expect("\(again.map { "\($0)" } ?? "accepted")".contains("log entry \(sequence), a pending rights change"))
        #expect(try reopened.service.store.logHead().size == logged, "refused input changes nothing")
        #expect(throws: StoredPayloadError.self) { try reopened.service.rightsCase(filed.caseId, by: reopened.identity) }
    }
}
