@testable import CreditNode
import CreditTesting
import Foundation
import GRDB
import SyncProtocol
import SyncTransport
import Testing

/// The outbox keeps a set's signature, not its envelope: the envelope is rebuilt from the log
/// and must be the one signed, byte for byte.
@Suite struct OutboxRebuildTests {
    func pending() async throws -> (InMemoryHub, NodeFixture, Pusher) {
        let hub = InMemoryHub()
        let f = try NodeFixture(node: "360100", readScope: .all)
        try await hub.enroll(f.key.publicKey, node: "360100")
        _ = try f.service.submit(f.punishments(0..<7), by: f.identity)
        let p = Pusher(node: "360100", store: f.service.store, transport: hub, key: f.key, hub: hub.id, hubKeys: hub.publicKeys,
                       configuration: .init(maxChanges: 5, window: 1), now: { NodeFixture.now })
        await hub.loseReceipts(1)
        await #expect(throws: Pusher.Failure.self) { try await p.pushOnce() }
        return (hub, f, p)
    }

    @Test func aRebuiltSetIsTheOneSentAndSigned() async throws {
        let (hub, f, p) = try await pending()
        let sent = try #require(await hub.acceptedEnvelopes(node: "360100").first)
        let saved = try #require(try f.service.store.pushState().outbox.first)
        let (set, envelope) = try p.rebuild(saved, before: MerkleFrontier())
        #expect(envelope == sent)
        #expect((set.first, set.last) == (1, 5))
        #expect(try await p.pushOnce() == 5)
        #expect(await hub.equivocations == 0)
    }

    @Test func anOutboxSetThatIsNotWhatWasSignedIsNotSent() async throws {
        let (hub, f, p) = try await pending()
        try await f.service.store.writer.write { try $0.execute(sql: "UPDATE outbox SET set_created_at = set_created_at + 1") }
        let before = await hub.pushCount
        await #expect(throws: Pusher.Failure.self) { try await p.pushOnce() }
        #expect(await hub.pushCount == before, "nothing was sent")
        #expect(try f.service.store.pushState().acknowledged == 0)
    }
}
