import CreditTesting
import SyncProtocol
import Testing

/// sync.md §4 step 4 for what the hub signs: the signer a receipt, a fan-out batch or a tree head
/// names MUST be the verified key's owner (`untrusted-key`), and the key id it names MUST be the
/// verifying signature's (`inconsistent`); and §5: a receipt's `treeSize` MUST equal `last`.
@Suite struct HubSignedMessageTests {
    let hubKey = SyncFixtures.key("hub-360000")
    let otherHubKey = SyncFixtures.key("hub-360000-next")
    let root = MerkleHash.leaf([7])

    /// The hub's two keys, and a node's.
    var keys: KeyRegistry { SyncFixtures.registry([("360000", hubKey), ("360000", otherHubKey), ("360100", SyncFixtures.key("node-360100"))]) }

    func receipt(hub: String = "360000", keyId: String? = nil, last: UInt64 = 5, treeSize: UInt64 = 5) -> Receipt {
        Receipt(hub: hub, keyId: keyId ?? hubKey.keyId, node: "360100", first: 1, last: last, tree: TreeHead(size: treeSize, root: root),
                envelopeDigest: root, receivedAt: 1_790_000_000_000)
    }

    @Test func aReceiptNamesItsSignerAndKeyAndCoversTheLogItHolds() throws {
        #expect(try Receipt.open(receipt().signed(with: hubKey).encoded, hub: "360000", keys: keys) == receipt())
        #expect(throws: WireError.untrustedKey(keyId: hubKey.keyId, signer: "360100")) {
            try Receipt.open(receipt(hub: "360100").signed(with: hubKey).encoded, hub: "360000", keys: keys)
        }
        #expect(throws: WireError.inconsistent("the body names key \(otherHubKey.keyId) but key \(hubKey.keyId) signed it")) {
            try Receipt.open(receipt(keyId: otherHubKey.keyId).signed(with: hubKey).encoded, hub: "360000", keys: keys)
        }
        for (last, size) in [(UInt64(5), UInt64(4)), (5, 6)] {
            #expect(throws: WireError.inconsistent("receipt range 1…\(last) with log size \(size)")) {
                try Receipt.open(receipt(last: last, treeSize: size).signed(with: hubKey).encoded, hub: "360000", keys: keys)
            }
        }
    }

    @Test func aFanOutBatchNamesItsSignerAndKey() throws {
        func batch(hub: String = "360000", keyId: String? = nil) throws -> [UInt8] {
            let body = FanOutBatch.body(hub: hub, keyId: keyId ?? hubKey.keyId, node: "360100", from: 1, to: 0,
                                        hubLog: TreeHead(size: 3, root: root), createdAt: 1, entries: [])
            return try Envelope.sign(payloadType: Envelope.PayloadType.fanOut, payload: body, with: hubKey).encoded
        }
        #expect(try FanOutBatch.open(batch(), hub: "360000", keys: keys).hubLog.size == 3)
        #expect(throws: WireError.untrustedKey(keyId: hubKey.keyId, signer: "360100")) {
            try FanOutBatch.open(batch(hub: "360100"), hub: "360000", keys: keys)
        }
        #expect(throws: WireError.inconsistent("the body names key \(otherHubKey.keyId) but key \(hubKey.keyId) signed it")) {
            try FanOutBatch.open(batch(keyId: otherHubKey.keyId), hub: "360000", keys: keys)
        }
    }

    @Test func aTreeHeadNamesItsLogAndKey() throws {
        func head(log: String = "360000", keyId: String? = nil) throws -> [UInt8] {
            try SignedTreeHead(log: log, keyId: keyId ?? hubKey.keyId, head: TreeHead(size: 9, root: root), timestamp: 1)
                .signed(with: hubKey).encoded
        }
        #expect(try SignedTreeHead.open(head(), signer: "360000", keys: keys).head.size == 9)
        #expect(throws: WireError.untrustedKey(keyId: hubKey.keyId, signer: "360100")) {
            try SignedTreeHead.open(head(log: "360100"), signer: "360000", keys: keys)
        }
        #expect(throws: WireError.inconsistent("the body names key \(otherHubKey.keyId) but key \(hubKey.keyId) signed it")) {
            try SignedTreeHead.open(head(keyId: otherHubKey.keyId), signer: "360000", keys: keys)
        }
    }
}
