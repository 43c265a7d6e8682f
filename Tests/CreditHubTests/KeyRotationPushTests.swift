import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Synchronization
import Testing

/// The README's key rotation (enroll the new key, restart the node on it, revoke the old one)
/// while change sets signed with the old key are still unacknowledged in the node's outbox.
@Suite struct KeyRotationPushTests {
    /// A link on which the first set (changes from 1) reaches the hub once, its answer lost;
    /// every other request is lost on the way.
    final class Cut: ForwardingTransport, @unchecked Sendable {
        private let delivered = Mutex(false)

        override func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
            let first = (try? ChangeSet(decodingBody: Envelope(decoding: envelope).payload).first) ?? 0
            let deliver = delivered.withLock { done in
                defer { done = done || first == 1 }
                return first == 1 && !done
            }
            guard deliver else { throw .unreachable("request lost") }
            _ = try await inner.push(node: node, envelope: envelope, pinned: pinned)
            throw .unreachable("answer lost")
        }
    }

    /// The set the hub took answers its stored receipt; those it never took are signed again
    /// with the new key. Nothing jams, nothing is lost, nothing is taken for equivocation.
    @Test func setsSignedWithARevokedKeyAreAcknowledgedOrSignedAgain() async throws {
        let (h, nodes) = try HubFixture.federation(["360100"])
        let n = nodes[0]
        _ = try n.service.submit(n.punishments(0..<30), by: n.identity)
        // Three sets of ten signed with the old key: the first reaches the hub, its answer is lost.
        let old = Pusher(node: "360100", store: n.service.store, transport: Cut(h.transport), key: n.key, hub: "360000", hubKeys: h.pinned,
                         configuration: .init(maxChanges: 10, window: 4), now: h.clock.function)
        await #expect(throws: (any Error).self) { try await old.pushOnce() }
        #expect(try h.store.position(node: "360100")?.acknowledged == 10)
        #expect(try n.service.store.pushState().outbox.map(\.first) == [1, 11, 21])

        let newKey = SigningKey()
        try h.store.rotateKey(node: "360100", key: newKey.publicKey, revokeOthers: false, at: h.now)
        try h.store.revoke(node: "360100", keyId: n.key.keyId, at: h.now)
        let pusher = Pusher(node: "360100", store: n.service.store, transport: h.transport, key: newKey, hub: "360000", hubKeys: h.pinned,
                            configuration: .init(maxChanges: 10, window: 4), now: h.clock.function)
        var rounds = 0
        while try await pusher.pushOnce() > 0 || (try n.service.store.pushState().acknowledged) < 30 {
            rounds += 1
            try #require(rounds < 10, "the pusher does not get past the old key's sets")
        }
        #expect(try n.service.store.pushState().acknowledged == 30)
        #expect(try n.service.store.pushState().outbox.isEmpty)
        #expect(try h.store.position(node: "360100")?.acknowledged == 30)
        #expect(try h.store.counts().equivocations == 0)
        #expect(try h.store.stateDigest().records == 30)
    }
}
