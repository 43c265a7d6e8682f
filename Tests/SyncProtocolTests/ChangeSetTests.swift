import CreditTesting
import SyncProtocol
import Testing

@Suite struct ChangeTests {
    @Test func roundTripsByteForByte() throws {
        for op in ChangeOperation.allCases {
            let change = SyncFixtures.change(sequence: 1 << 40, operation: op, payload: #"{"名称":"南昌赣江商贸有限公司"}"#)
            let decoded = try Change(decoding: change.encoded)
            #expect(decoded == change)
            #expect(decoded.encoded == change.encoded)
        }
    }

    @Test func correctionWithoutReasonIsRefused() {
        var change = SyncFixtures.change(sequence: 7, operation: .revoke)
        change.reason = ""
        #expect(throws: WireError.missingReason(sequence: 7)) { try Change(decoding: change.encoded) }
    }

    @Test func unknownOperationAndVersionAreRefused() {
        var bytes = SyncFixtures.change(sequence: 1).encoded
        bytes[0] = 2
        #expect(throws: WireError.version(field: "change", found: 2)) { try Change(decoding: bytes) }
    }

    @Test func trailingBytesAreRefused() {
        let bytes = SyncFixtures.change(sequence: 1).encoded + [0]
        #expect(throws: WireError.trailingBytes(count: 1)) { try Change(decoding: bytes) }
    }

    @Test func nonMinimalVarintIsRefused() throws {
        var w = ByteWriter()
        w.raw([0x81, 0x00])
        var r = ByteReader(w.bytes)
        #expect(throws: WireError.varint(field: "x")) { try r.uvarint("x") }
        var overflow = ByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        #expect(throws: WireError.varint(field: "x")) { try overflow.uvarint("x") }
        var max = ByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(try max.uvarint("x") == UInt64.max)
    }
}

@Suite struct ChangeSetTests {
    let node = SyncFixtures.key("node-360100")
    let next = SyncFixtures.key("node-360100-next")
    let other = SyncFixtures.key("node-360200")

    @Test func signedSetOpensAndExtendsTheLog() throws {
        let keys = SyncFixtures.registry([("360100", node)])
        let (envelope, set) = try SyncFixtures.changeSet(key: node, count: 5)
        let opened = try ChangeSet.open(envelope.encoded, keys: keys)
        #expect(opened.changeSet == set)
        #expect(opened.envelope.encoded == envelope.encoded)
        let frontier = try set.extend(MerkleFrontier())
        #expect(frontier.size == 5)
        // The next set continues from that frontier.
        let (next, _) = try SyncFixtures.changeSet(key: node, after: frontier, count: 3)
        let second = try ChangeSet.open(next.encoded, keys: keys).changeSet
        #expect(second.first == 6)
        #expect(try second.extend(frontier).size == 8)
        // A set that does not start where the receiver's log ends is refused.
        #expect(throws: WireError.self) { try second.extend(MerkleFrontier()) }
    }

    @Test func storedChangesAreTheExactBytesOfTheSet() throws {
        let (envelope, set) = try SyncFixtures.changeSet(key: node, after: try SyncFixtures.changeSet(key: node, count: 4).1.extend(MerkleFrontier()),
                                                         count: 7)
        let stored = try ChangeSet.storedChanges(envelope.encoded)
        #expect(stored.first == 5)
        #expect(stored.changes == set.encodedChanges)
        // Precomputed leaf hashes give the same frontier as hashing inside extend.
        let frontier = try SyncFixtures.changeSet(key: node, count: 4).1.extend(MerkleFrontier())
        #expect(try set.extend(frontier, leafHashes: set.encodedChanges.map { MerkleHash.leaf($0) }) == (try set.extend(frontier)))
        #expect(throws: WireError.self) { try set.extend(frontier, leafHashes: []) }
        #expect(throws: WireError.self) { try ChangeSet.storedChanges(Array(envelope.encoded.dropLast(3))) }
    }

    @Test func treeHeadsMustFollowFromTheChanges() throws {
        var (_, set) = try SyncFixtures.changeSet(key: node, count: 3)
        set.after.root = MerkleHash.leaf([UInt8(9)])
        let keys = SyncFixtures.registry([("360100", node)])
        let forged = try set.signed(with: node)
        let opened = try ChangeSet.open(forged.encoded, keys: keys).changeSet
        #expect(throws: WireError.self) { try opened.extend(MerkleFrontier()) }
    }

    @Test func rotationRevocationAndForeignKeys() throws {
        var keys = SyncFixtures.registry([("360100", node), ("360100", next), ("360200", other)])
        let (old, _) = try SyncFixtures.changeSet(key: node, count: 1)
        let (new, _) = try SyncFixtures.changeSet(key: next, count: 1)
        #expect(throws: Never.self) { try ChangeSet.open(old.encoded, keys: keys) }
        #expect(throws: Never.self) { try ChangeSet.open(new.encoded, keys: keys) }
        keys.revoke(keyId: node.keyId)
        #expect(throws: WireError.untrustedKey(keyId: node.keyId, signer: "360100")) { try ChangeSet.open(old.encoded, keys: keys) }
        #expect(throws: Never.self) { try ChangeSet.open(new.encoded, keys: keys) }
        // Node 360200's key signing a set that claims to be 360100's.
        let (forged, _) = try SyncFixtures.changeSet(node: "360100", key: other, count: 1)
        #expect(throws: WireError.untrustedKey(keyId: other.keyId, signer: "360100")) { try ChangeSet.open(forged.encoded, keys: keys) }
        // An unknown key.
        let stranger = SigningKey()
        let (unknown, _) = try SyncFixtures.changeSet(key: stranger, count: 1)
        #expect(throws: WireError.self) { try ChangeSet.open(unknown.encoded, keys: keys) }
    }

    /// sync.md §3: where the verifier expects a signer (the hub knows the node from its request
    /// path), another signer's signature is skipped, and one verifying signature of the node's
    /// suffices whatever comes before it.
    @Test func aSetAlsoSignedByAnotherNodeOpensOnItsNodesSignature() throws {
        let keys = SyncFixtures.registry([("360100", node), ("360200", other)])
        let (envelope, set) = try SyncFixtures.changeSet(key: node, count: 2)
        let foreign = try Envelope.sign(payloadType: Envelope.PayloadType.changeSet, payload: set.body, with: other)
        let both = Envelope(payloadType: envelope.payloadType, payload: envelope.payload,
                            signatures: foreign.signatures + envelope.signatures).encoded
        #expect(try ChangeSet.open(both, keys: keys, node: "360100").changeSet == set)
        // Without an expected signer the first verifying signature decides: another node's.
        #expect(throws: WireError.untrustedKey(keyId: other.keyId, signer: "360100")) { try ChangeSet.open(both, keys: keys) }
        // Signed by the other node alone: nothing of 360100's is left.
        #expect(throws: WireError.untrustedKey(keyId: other.keyId, signer: "360100")) {
            try ChangeSet.open(foreign.encoded, keys: keys, node: "360100")
        }
    }

    @Test func anotherPayloadTypeIsRefused() throws {
        let (_, set) = try SyncFixtures.changeSet(key: node, count: 1)
        let wrong = try Envelope.sign(payloadType: Envelope.PayloadType.receipt, payload: set.body, with: node)
        #expect(throws: WireError.payloadType(expected: Envelope.PayloadType.changeSet, found: Envelope.PayloadType.receipt)) {
            try ChangeSet.open(wrong.encoded, keys: SyncFixtures.registry([("360100", node)]))
        }
    }

    /// sync.md §3–§6: an envelope over 16 MiB is `oversized` before anything else is read, and
    /// so is a set or batch that declares more than 10,000 changes (before any is allocated).
    @Test func oversizedEnvelopesAndCountsAreRefusedBeforeTheyAreRead() throws {
        #expect(throws: WireError.oversized(field: "envelope", limit: Envelope.maxBytes)) {
            try Envelope(decoding: [UInt8](repeating: 0, count: Envelope.maxBytes + 1))
        }
        func header(_ write: (inout ByteWriter) -> Void) -> [UInt8] {
            var w = ByteWriter()
            write(&w)
            w.uvarint(UInt64(ChangeSet.maxChanges) + 1)
            return w.bytes
        }
        let root = MerkleHash.leaf([1])
        let set = header { w in
            w.u8(1); w.string("360100"); w.string("k"); w.uvarint(1); w.uvarint(10_001)
            w.uvarint(0); w.hash(root); w.uvarint(10_001); w.hash(root); w.uvarint(1)
        }
        #expect(throws: WireError.oversized(field: "changeset.count", limit: ChangeSet.maxChanges)) { try ChangeSet(decodingBody: set) }
        let batch = header { w in
            w.u8(1); w.string("360000"); w.string("k"); w.string("360100"); w.uvarint(1); w.uvarint(10_001)
            w.uvarint(10_001); w.hash(root); w.uvarint(1)
        }
        #expect(throws: WireError.oversized(field: "fanout.count", limit: ChangeSet.maxChanges)) { try FanOutBatch(decodingBody: batch) }
    }

    /// Property: changing any single byte of a signed envelope makes it fail to open.
    @Test func everySingleByteChangeFailsVerification() throws {
        let keys = SyncFixtures.registry([("360100", node)])
        let (envelope, _) = try SyncFixtures.changeSet(key: node, count: 2)
        let bytes = envelope.encoded
        for i in bytes.indices {
            for delta: UInt8 in [0x01, 0x80, 0xFF] {
                var mutated = bytes
                mutated[i] ^= delta
                #expect(throws: WireError.self, "byte \(i) ^ \(delta) accepted") { try ChangeSet.open(mutated, keys: keys) }
            }
        }
        // Truncation at every length, and trailing garbage.
        for n in 0..<bytes.count {
            #expect(throws: WireError.self) { try ChangeSet.open(Array(bytes.prefix(n)), keys: keys) }
        }
        #expect(throws: WireError.trailingBytes(count: 1)) { try ChangeSet.open(bytes + [0], keys: keys) }
    }

    @Test func receiptsBatchesAndTreeHeadsRoundTrip() throws {
        let hub = SyncFixtures.key("hub")
        let keys = SyncFixtures.registry([("360000", hub)])
        let (envelope, set) = try SyncFixtures.changeSet(key: node, count: 2)
        let receipt = Receipt(hub: "360000", keyId: hub.keyId, node: "360100", first: set.first, last: set.last,
                              tree: set.after, envelopeDigest: .sha256(envelope.encoded), receivedAt: 1_790_000_003_000)
        #expect(try Receipt.open(receipt.signed(with: hub).encoded, hub: "360000", keys: keys) == receipt)

        let entries = try set.encodedChanges.enumerated().map { try FanOutBatch.Entry(position: UInt64($0.offset * 2 + 1), encoded: $0.element) }
        let batch = try FanOutBatch(hub: "360000", keyId: hub.keyId, node: "360200", from: 1, to: 4,
                                    hubLog: TreeHead(size: 4, root: .sha256([UInt8]())), createdAt: 1, entries: entries)
        #expect(try FanOutBatch.open(batch.signed(with: hub).encoded, hub: "360000", keys: keys) == batch)
        #expect(throws: WireError.self) {
            try FanOutBatch(hub: "360000", keyId: hub.keyId, node: "360200", from: 3, to: 4,
                            hubLog: TreeHead(size: 4, root: .sha256([UInt8]())), createdAt: 1, entries: entries)
        }

        let sth = SignedTreeHead(log: "360100", keyId: node.keyId, head: set.after, timestamp: 5)
        let nodeKeys = SyncFixtures.registry([("360100", node)])
        #expect(try SignedTreeHead.open(sth.signed(with: node).encoded, signer: "360100", keys: nodeKeys) == sth)
        // The hub's receipt does not verify as a node's tree head.
        #expect(throws: WireError.self) { try SignedTreeHead.open(receipt.signed(with: hub).encoded, signer: "360000", keys: keys) }
    }
}

/// A decoder fuzz loop inside the suite: 100,000 mutated inputs, none may crash, hang or be
/// accepted as something other than what was signed. A much longer run:
/// `CREDITSYNC_FUZZ_ITERATIONS=10000000 swift test -c release --filter DecoderFuzzTests`.
@Suite struct DecoderFuzzTests {
    @Test func mutatedInputsNeverCrashTheDecoders() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["CREDITSYNC_FUZZ_ITERATIONS"] ?? "") ?? 100_000
        let node = SyncFixtures.key("node-360100")
        let (envelope, set) = try SyncFixtures.changeSet(key: node, count: 3)
        let seeds = [envelope.encoded, set.body, set.encodedChanges[0]]
        var rng = SplitMix(seed: 0x5EED)
        var accepted = 0
        for i in 0..<iterations {
            var bytes = seeds[i % seeds.count]
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0..<edits {
                let position = Int(rng.next() % UInt64(bytes.count + 1))
                switch rng.next() % 5 {
                case 0 where position < bytes.count: bytes[position] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                case 1 where position < bytes.count: bytes.remove(at: position)
                case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
                case 3: bytes = Array(bytes.prefix(position))
                default: if position < bytes.count { bytes[position] = [0x00, 0x7F, 0x80, 0xFF][Int(rng.next() % 4)] }
                }
            }
            switch i % seeds.count {
            case 0: if (try? Envelope(decoding: bytes)) != nil { accepted += 1 }
            case 1: if (try? ChangeSet(decodingBody: bytes)) != nil { accepted += 1 }
            default: if (try? Change(decoding: bytes)) != nil { accepted += 1 }
            }
        }
        // Some mutations land in free text and still decode; most must not.
        #expect(accepted < iterations / 2)
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
