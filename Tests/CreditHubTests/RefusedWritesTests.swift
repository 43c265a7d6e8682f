import CreditCore
import CreditDeploy
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Synchronization
import Testing

/// A provider whose acknowledged write the hub refused learns it from its node
/// (`GET /v1/refusals`), on the hub's signed word only (`GET /v1/nodes/{node}/refusals`).
extension ConvergenceTests {
    @Test func aWriteThatLostARaceIsListedAsRefusedAtItsNodeOnly() async throws {
        let (h, nodes) = try federation(["360100", "360400"])
        let identities = [nodes[0].identity, try sameUnit(h, nodes, at: 1)]
        let versions = [record(nodes, 7), record(nodes, 7, variant: "罚款9999元")]
        _ = try nodes[0].service.submit([versions[0], record(nodes, 8)], by: identities[0])
        let lost = try nodes[1].service.submit([record(nodes, 9), versions[1], record(nodes, 8, variant: "罚款1元")], by: identities[1])
        try await sync(h, nodes)
        #expect(try h.store.refusals().map(\.code) == ["not-home", "not-home"])
        // The hub's list stops at its last refusal when it holds the most it may, else at the position.
        let first = try #require(try h.store.refusalList(node: "360400", after: 0, limit: 1))
        #expect(first.through == 2 && first.refusals.map(\.sequence) == [2] && first.position.acknowledged == 3)
        #expect(try h.store.refusalList(node: "360400", after: 0, limit: 3)?.through == 3)
        #expect(try h.store.refusalList(node: "360400", after: 2, limit: 1)?.refusals.map(\.sequence) == [3])
        #expect(try h.store.refusalList(node: "369999", after: 0, limit: 1) == nil)

        // Nothing is listed before the hub has been asked: only its word settles a refusal.
        #expect(try nodes[1].service.refusedWrites(after: 0, by: identities[1]).refusals.isEmpty)
        #expect(try await h.pusher(nodes[0]).learnRefusals() == 0)
        #expect(try await h.pusher(nodes[1]).learnRefusals() == 2)
        let page = try nodes[1].service.refusedWrites(after: 0, by: identities[1])
        #expect(page.learnedThrough == 3 && page.acknowledged == 3)
        let refused = try #require(page.refusals.first)
        #expect(page.refusals.map(\.sequence) == [2, 3])
        #expect(refused.sequence == lost[1].sequence && refused.operation == "create" && refused.code == "not-home")
        #expect(refused.provider == nodes[0].identity.unit && refused.recordId == "CF-360100-2026-7" && refused.field == "recordId")
        #expect(refused.message.contains("CF-360100-2026-7"), "\(refused.message)")
        // The winner's node lists nothing; asking again adds nothing; paging after it is empty.
        #expect(try nodes[0].service.refusedWrites(after: 0, by: identities[0]).refusals.isEmpty)
        #expect(try nodes[0].service.refusedWrites(after: 0, by: identities[0]).learnedThrough == 2)
        #expect(try await h.pusher(nodes[1]).learnRefusals() == 0)
        #expect(try nodes[1].service.refusedWrites(after: refused.sequence, by: identities[1]).refusals.map(\.sequence) == [3])
        // Another unit's credential at the same node does not see the unit's refusals.
        #expect(try nodes[1].service.refusedWrites(after: 0, by: nodes[1].identity).refusals.isEmpty)
    }

    /// More refusals than one signed list holds (``RefusalList/limit``): the node reads page after
    /// page until the hub's word covers all it acknowledged, and files each refusal once.
    @Test func refusalsPastOneFullListAreLearnedPageByPage() async throws {
        let (h, nodes) = try federation(["360100", "360400"])
        let identities = [nodes[0].identity, try sameUnit(h, nodes, at: 1)]
        let count = RefusalList.limit + 300
        // Nanchang creates every record first; Ji'an, not yet told, writes each one too and loses.
        for start in stride(from: 0, to: count, by: 1000) {
            _ = try nodes[0].service.submit(nodes[0].punishments(start..<min(count, start + 1000)), by: identities[0])
        }
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        for start in stride(from: 0, to: count, by: 1000) {
            let batch = (start..<min(count, start + 1000)).map { record(nodes, $0, variant: "罚款9999元") }
            _ = try nodes[1].service.submit(batch, by: identities[1])
        }
        while try await h.pusher(nodes[1]).pushOnce() > 0 {}
        #expect(try h.store.refusalList(node: "360400", after: 0, limit: RefusalList.limit)?.refusals.count == RefusalList.limit)

        #expect(try await h.pusher(nodes[1]).learnRefusals() == count)
        let store = nodes[1].service.store
        #expect(try store.refusalsLearnedThrough() == UInt64(count) && store.acknowledgedPosition() == UInt64(count))
        var sequences: [UInt64] = []
        while true {
            let page = try nodes[1].service.refusedWrites(after: sequences.last ?? 0, by: identities[1]).refusals
            if page.isEmpty { break }
            sequences += page.map(\.sequence)
        }
        #expect(sequences == Array(1...UInt64(count)))
        // Asking again lists nothing new.
        #expect(try await h.pusher(nodes[1]).learnRefusals() == 0)
    }

    @Test func aRefusalListIsFiledOnlyWhenItIsTheHubsWordOnThisNodesOwnLog() async throws {
        let (h, nodes) = try federation(["360100"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<5), by: nodes[0].identity)
        try await sync(h, nodes)
        let store = nodes[0].service.store
        let key = try Change(decoding: try #require(try store.changes(after: 2, limit: 1, maxBytes: .max).first)).key
        func list(through: UInt64, after: UInt64 = 0, acknowledged: UInt64 = 5, root: String? = nil, incarnation: String = "00000000000000a1",
                  _ refusals: [RefusalList.Refusal]) -> RefusalList {
            RefusalList(node: "360100", after: after, through: through, acknowledged: acknowledged, treeRoot: root ?? (try! store.logFrontier(through: acknowledged).root.hex),
                        at: 0, incarnation: incarnation, refusals: refusals)
        }
        let third = RefusalList.Refusal(sequence: 3, recordKey: key.description, code: "catalog-version", field: "catalogVersion", message: "m", receivedAt: 0)

        // A refusal naming another record than this node's change of that sequence: nothing is filed.
        var forged = third
        forged.recordKey = "\(key.provider)/\(key.item)/another"
        #expect(throws: WireError.self) { try store.learnRefusals(list(through: 5, [forged])) }
        #expect(try store.refusalsLearnedThrough() == 0 && store.refusedWrites().isEmpty)
        // The hub's word on another log (its root at its position is not this log's): nothing.
        #expect(try store.learnRefusals(list(through: 5, root: String(repeating: "0", count: 64), [third])) == 0)
        #expect(try store.refusalsLearnedThrough() == 0)
        // Signed by a key the node does not pin, or out of order: the list does not open.
        let bytes = try list(through: 5, [third]).signed(with: SigningKey())
        #expect(throws: (any Error).self) { try RefusalList.open(bytes, hub: "360000", keys: h.pinned, node: "360100", after: 0) }
        let disordered = try list(through: 5, [third, third]).signed(with: h.hubKey)
        #expect(throws: WireError.self) { try RefusalList.open(disordered, hub: "360000", keys: h.pinned, node: "360100", after: 0) }
        let beyond = try list(through: 2, [third]).signed(with: h.hubKey)
        #expect(throws: WireError.self) { try RefusalList.open(beyond, hub: "360000", keys: h.pinned, node: "360100", after: 0) }
        // More than one list may hold (hub-api.md: at most 1,000), each in order: it does not open.
        let many = (2...UInt64(RefusalList.limit + 2)).map { sequence in
            var refusal = third
            refusal.sequence = sequence
            return refusal
        }
        let tooMany = try list(through: many.last!.sequence, acknowledged: many.last!.sequence, root: String(repeating: "0", count: 64), many)
            .signed(with: h.hubKey)
        #expect(throws: WireError.self) { try RefusalList.open(tooMany, hub: "360000", keys: h.pinned, node: "360100", after: 0) }
        #expect(try RefusalList.open(try list(through: 5, [third]).signed(with: h.hubKey), hub: "360000", keys: h.pinned, node: "360100", after: 0)
            .refusals.count == 1)

        #expect(try store.learnRefusals(list(through: 5, [third])) == 1)
        #expect(try store.refusedWrites().map(\.sequence) == [3] && store.refusalsLearnedThrough() == 5)
        // A stale answer (asked after 0 again) changes nothing.
        #expect(try store.learnRefusals(list(through: 5, [third])) == 0)
        // A hub restored from an older backup holds 2 of this log: what it said past 2 is taken
        // back (the change is pushed again and merged anew), and the node asks again from 2.
        #expect(try store.learnRefusals(list(through: 2, after: 5, acknowledged: 2, [])) == 0)
        #expect(try store.refusedWrites().isEmpty && store.refusalsLearnedThrough() == 2)

        // Learned again, then the pusher finds a restored hub holding 4 of the 5: everything the
        // old hub said is void, #3 included, which the restored hub may hold again with another
        // decision (a set sent before, delivered late). The node learns its word from the start.
        #expect(try store.learnRefusals(list(through: 5, after: 2, [third])) == 1)
        try store.resetPush(to: try store.logFrontier(through: 4))
        #expect(try store.refusedWrites().isEmpty && store.refusalsLearnedThrough() == 0)
        #expect(try store.learnRefusals(list(through: 4, acknowledged: 4, [])) == 0)
        #expect(try store.refusedWrites().isEmpty && store.refusalsLearnedThrough() == 4)

        // A list of another hub process: what was learned is void (a restored hub decides anew),
        // and a list asked after what was learned is not filed; the one asked from 0 is.
        #expect(try store.learnRefusals(list(through: 5, after: 4, [])) == 0 && store.refusalsLearnedThrough() == 5)
        #expect(try store.learnRefusals(list(through: 5, after: 5, incarnation: "00000000000000b2", [])) == 0)
        #expect(try store.refusalsLearnedThrough() == 0)
        #expect(try store.learnRefusals(list(through: 5, incarnation: "00000000000000b2", [third])) == 1)
        #expect(try store.refusedWrites().map(\.sequence) == [3] && store.refusalsLearnedThrough() == 5)
    }
}

extension ConvergenceTests {
    /// Nanchang and Ji'an on a hub whose store is a file, Ji'an's credential of Nanchang's unit,
    /// and a backup of the hub (at `backupPath`) holding one record of Nanchang's.
    func federationWithAHubBackup(in dir: URL) async throws -> (HubFixture, [NodeFixture], [ProviderIdentity], String) {
        let hubPath = dir.appendingPathComponent("hub.sqlite").path, backupPath = dir.appendingPathComponent("backup.sqlite").path
        let (h, nodes) = try HubFixture.federation(["360100", "360400"], sharedClock: true, path: hubPath)
        let identities = [nodes[0].identity, try sameUnit(h, nodes, at: 1)]
        _ = try nodes[0].service.submit([record(nodes, 1)], by: identities[0])
        try await sync(h, nodes)
        _ = try StoreBackup.backup(from: hubPath, to: backupPath)
        return (h, nodes, identities, backupPath)
    }

    /// A race decided one way, then, on a hub restored from a backup taken before it, the other:
    /// the node re-feeding the hub drops what the hub said past its position, so the loser's
    /// list follows the restored hub's word (a node that kept it would list a merged write as
    /// refused and never ask about the one now refused).
    @Test func aHubRestoredFromAnOlderBackupDecidingARaceTheOtherWayIsFollowed() async throws {
        let dir = try Fixtures.temporaryDirectory("hub-restore-refusals")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (h, nodes, identities, backupPath) = try await federationWithAHubBackup(in: dir)

        // Nanchang's version reaches the hub first: Ji'an's is refused, and each node learns it.
        let versions = [record(nodes, 7), record(nodes, 7, variant: "罚款9999元")]
        _ = try nodes[0].service.submit([versions[0]], by: identities[0])
        _ = try nodes[1].service.submit([versions[1]], by: identities[1])
        for n in nodes { while try await h.pusher(n).pushOnce() > 0 {} }
        #expect(try await h.pusher(nodes[0]).learnRefusals() == 0)
        #expect(try await h.pusher(nodes[1]).learnRefusals() == 1)

        // The hub is restored from the backup, which holds neither. Each node's next write meets
        // a gap and re-feeds it, Ji'an first this time: its version wins, Nanchang's is refused.
        // (A set past the hub's position waits a moment for the ones before it, then is a gap.)
        let restored = try HubFixture(now: h.now, pipelinePatience: .milliseconds(100), path: backupPath)
        _ = try nodes[1].service.submit([record(nodes, 9)], by: identities[1])
        _ = try nodes[0].service.submit([record(nodes, 8)], by: identities[0])
        for n in [nodes[1], nodes[0]] { for _ in 0..<4 { _ = try await restored.pusher(n).pushOnce() } }
        #expect(try restored.store.position(node: "360400")?.acknowledged == 2 && restored.store.position(node: "360100")?.acknowledged == 3)
        #expect(try restored.store.refusals().map { "\($0.node)#\($0.sequence) \($0.code)" } == ["360100#2 not-home"])
        for n in nodes { _ = try await restored.pusher(n).learnRefusals() }
        #expect(try nodes[1].service.store.refusedWrites().isEmpty, "Ji'an's write is the province's version now")
        #expect(try nodes[0].service.store.refusedWrites().map { "\($0.sequence) \($0.code)" } == ["2 not-home"])
        #expect(try nodes[0].service.store.refusalsLearnedThrough() == 3 && nodes[1].service.store.refusalsLearnedThrough() == 2)
    }

    /// A copy of a set, sent to the old hub and delivered late to the hub restored from a backup
    /// that held none of it: the restored hub then holds as much of the node's log as the old one
    /// did, so the node never sees it hold less, yet it decided the race the other way. Its
    /// lists name another hub process (`incarnation`, hub-api.md): the node forgets the old
    /// hub's word and lists the write it now refused (simulator seed 330286).
    @Test func aSetDeliveredLateToARestoredHubIsListedOnTheRestoredHubsWord() async throws {
        let dir = try Fixtures.temporaryDirectory("hub-restore-late-set")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (h, nodes, identities, backupPath) = try await federationWithAHubBackup(in: dir)

        /// Forwards every push, keeping a copy of its envelope: the network's duplicate.
        final class Copying: ForwardingTransport, @unchecked Sendable {
            let kept = Mutex<[[UInt8]]>([])
            var copies: [[UInt8]] { kept.withLock { $0 } }
            override func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
                kept.withLock { $0.append(envelope) }
                return try await super.push(node: node, envelope: envelope, pinned: pinned)
            }
        }
        // Ji'an's version reaches the old hub first, Nanchang's is refused, and each learns it.
        let network = Copying(h.transport)
        _ = try nodes[1].service.submit([record(nodes, 7, variant: "罚款9999元")], by: identities[1])
        while try await h.pusher(nodes[1], transport: network).pushOnce() > 0 {}
        _ = try nodes[0].service.submit([record(nodes, 7)], by: identities[0])
        while try await h.pusher(nodes[0]).pushOnce() > 0 {}
        #expect(try await h.pusher(nodes[1]).learnRefusals() == 0)
        #expect(try await h.pusher(nodes[0]).learnRefusals() == 1)

        // Restored from the backup, the hub is re-fed by Nanchang first: its version wins now.
        let restored = try HubFixture(now: h.now, pipelinePatience: .milliseconds(100), path: backupPath)
        _ = try nodes[0].service.submit([record(nodes, 8)], by: identities[0])
        for _ in 0..<4 { _ = try await restored.pusher(nodes[0]).pushOnce() }
        // Then the copy of Ji'an's set arrives, and is refused this time.
        _ = try await restored.transport.push(node: "360400", envelope: try #require(network.copies.first), pinned: nil)
        #expect(try restored.store.refusals().map { "\($0.node)#\($0.sequence) \($0.code)" } == ["360400#1 not-home"])
        #expect(try restored.store.position(node: "360400")?.acknowledged == nodes[1].service.store.acknowledgedPosition())

        // To Ji'an the word it learned covers all the hub holds: nothing to ask. Its idle pusher
        // confirms that word now and then, and the restored hub takes it back.
        #expect(try await restored.pusher(nodes[1]).learnRefusals() == 0)
        #expect(try nodes[1].service.store.refusedWrites().isEmpty)
        #expect(try await restored.pusher(nodes[1]).learnRefusals(confirming: true) == 1)
        _ = try await restored.pusher(nodes[0]).learnRefusals()
        #expect(try nodes[1].service.store.refusedWrites().map { "\($0.sequence) \($0.code)" } == ["1 not-home"])
        #expect(try nodes[0].service.store.refusedWrites().isEmpty, "Nanchang's write is the province's version now")

        // The hub restarts; Ji'an's next write is pushed, and the refusals it asks for after it
        // come from the start again: the same word, nothing lost or doubled.
        try restored.store.close()
        let restarted = try HubFixture(now: h.now, pipelinePatience: .milliseconds(100), path: backupPath)
        _ = try nodes[1].service.submit([record(nodes, 9)], by: identities[1])
        while try await restarted.pusher(nodes[1]).pushOnce() > 0 {}
        #expect(try await restarted.pusher(nodes[1]).learnRefusals() == 1)
        #expect(try nodes[1].service.store.refusedWrites().map { "\($0.sequence) \($0.code)" } == ["1 not-home"])
        #expect(try nodes[1].service.store.refusalsLearnedThrough() == 2 && nodes[0].service.store.refusalsLearnedThrough() == 3)
    }
}
