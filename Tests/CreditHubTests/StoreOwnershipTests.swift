import CreditCore
@testable import CreditHub
import CreditStorage
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// Issue 13: what an operator command may do beside a running hub, and batches bounded by bytes.
@Suite struct StoreOwnershipTests {
    let hubKey = SyncFixtures.key("hub")
    let nanchang = SyncFixtures.key("node-360100")

    func push(_ store: HubStore, _ changes: [[UInt8]], after frontier: MerkleFrontier) async throws -> MerkleFrontier {
        let set = try ChangeSet(node: "360100", keyId: nanchang.keyId, encodedChanges: changes, before: frontier, createdAt: 1)
        _ = try await store.ingest(PreparedSet(set, envelope: try set.signed(with: nanchang).encoded, validator: nil), hub: "360000",
                                   key: hubKey, receivedAt: NodeFixture.now)
        return try set.extend(frontier)
    }

    @Test func anOperatorOpenBesideTheDaemonNeverCutsTheEvidenceFile() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("hub.sqlite").path
        let daemon = try HubStore(path: path)
        try daemon.addNode(id: "360100", name: "南昌", key: nanchang.publicKey, at: NodeFixture.now)
        _ = try await push(daemon, (1...3).map { SyncFixtures.change(sequence: UInt64($0)).encoded }, after: MerkleFrontier())
        // A set the daemon has written and synced but not committed yet.
        let evidence = EvidenceLog.path(besideDatabase: path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: evidence))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        try handle.close()
        let size = try FileManager.default.attributesOfItem(atPath: evidence)[.size] as! Int

        // What `hub node list|add|revoke` does while the hub runs: the file stays as it is.
        let operatorStore = try HubStore(path: path, role: .operator)
        try operatorStore.addNode(id: "360200", name: "景德镇", key: SyncFixtures.key("node-360200").publicKey, at: NodeFixture.now)
        #expect(try operatorStore.nodes().count == 2)
        #expect(try FileManager.default.attributesOfItem(atPath: evidence)[.size] as! Int == size)
        // A second daemon is refused; the first goes on serving its evidence.
        #expect(throws: StoreLock.Held.self) { _ = try HubStore(path: path) }
        #expect(try daemon.fanOut(node: "360200", after: 0, limit: 10, maxBytes: FanOutBatch.byteBudget).entries.count == 3)
        // Once the daemon is gone, the next one tidies the unreferenced bytes away.
        try daemon.close()
        let next = try HubStore(path: path)
        #expect(try FileManager.default.attributesOfItem(atPath: evidence)[.size] as! Int == size - 4096)
        try next.close()
    }

    @Test func fanOutAndRecoveryBatchesStayWithinTheirByteBudget() async throws {
        let store = try HubStore(path: nil)
        try store.addNode(id: "360100", name: "南昌", key: nanchang.publicKey, at: NodeFixture.now)
        try store.addNode(id: "360700", name: "赣州", key: SyncFixtures.key("node-360700").publicKey, at: NodeFixture.now)
        // 100 changes of 250 KiB each: 25 MiB, far past one envelope.
        let big = String(repeating: "大", count: 250 * 1024 / 3)
        var frontier = MerkleFrontier()
        for first in stride(from: 1, through: 100, by: 10) {
            let changes = (first..<first + 10).map { SyncFixtures.change(sequence: UInt64($0), payload: #"{"note":"\#(big)"}"#).encoded }
            frontier = try await push(store, changes, after: frontier)
        }
        let hub = try HubService(store: store, key: hubKey, reference: Fixtures.reference, now: { NodeFixture.now })
        var registry = KeyRegistry()
        try registry.enroll(hubKey.publicKey, for: "360000")
        var after: UInt64 = 0, batches = 0, received = 0
        while after < 100 {
            let bytes = try await hub.fanOut(node: "360700", FanOutRequest(after: after)).batch
            #expect(bytes.count <= Envelope.maxBytes)
            let batch = try FanOutBatch.open(bytes, hub: "360000", keys: registry)
            #expect(batch.entries.reduce(0) { $0 + $1.encoded.count } <= FanOutBatch.byteBudget)
            #expect(batch.to > after, "the fan-out must move on")
            received += batch.entries.count
            after = batch.to
            batches += 1
        }
        #expect(received == 100 && batches >= 4)
        // Recovery of the node's own changes is bounded the same way.
        let recovered = try FanOutBatch.open(try hub.recover(node: "360100", after: 0), hub: "360000", keys: registry)
        #expect(recovered.entries.count < 100 && recovered.to == recovered.entries.last?.position)
    }
}
