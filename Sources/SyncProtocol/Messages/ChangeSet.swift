/// A node's signed batch of consecutive changes with its log's tree heads before and after
/// (`Protocol/sync.md` §4).
public struct ChangeSet: Sendable, Equatable {
    public var node: String
    public var keyId: String
    public var first: UInt64
    public var last: UInt64
    public var before: TreeHead
    public var after: TreeHead
    /// Milliseconds since 1970, UTC.
    public var createdAt: UInt64
    /// The changes, each keeping its exact encoded bytes in ``encodedChanges``.
    public var changes: [Change]
    public var encodedChanges: [[UInt8]]

    public static let maxChanges = 10_000

    /// Builds a change set over consecutive changes, computing the tree heads from the node log's
    /// frontier before them.
    public init(node: String, keyId: String, encodedChanges: [[UInt8]], before frontier: MerkleFrontier, createdAt: UInt64) throws(WireError) {
        guard !encodedChanges.isEmpty, encodedChanges.count <= Self.maxChanges else {
            throw .inconsistent("a change set holds 1 to \(Self.maxChanges) changes")
        }
        var tree = frontier
        var changes: [Change] = []
        for bytes in encodedChanges {
            changes.append(try Change(decoding: bytes))
            tree.append(leafHash: MerkleHash.leaf(bytes))
        }
        self.node = node
        self.keyId = keyId
        self.first = frontier.size + 1
        self.last = frontier.size + UInt64(encodedChanges.count)
        self.before = frontier.head
        self.after = tree.head
        self.createdAt = createdAt
        self.changes = changes
        self.encodedChanges = encodedChanges
        try checkConsistency()
    }

    /// The body that is signed.
    public var body: [UInt8] {
        var w = ByteWriter(capacity: 256 + encodedChanges.reduce(0) { $0 + $1.count + 3 })
        w.u8(1)
        w.string(node)
        w.string(keyId)
        w.uvarint(first)
        w.uvarint(last)
        w.uvarint(before.size)
        w.hash(before.root)
        w.uvarint(after.size)
        w.hash(after.root)
        w.uvarint(createdAt)
        w.uvarint(UInt64(encodedChanges.count))
        for c in encodedChanges { w.lengthPrefixed(c) }
        return w.bytes
    }

    /// Signs the body.
    public func signed(with key: SigningKey) throws -> Envelope {
        try Envelope.sign(payloadType: Envelope.PayloadType.changeSet, payload: body, with: key)
    }

    /// Decodes a body and checks its internal consistency (not its signature or tree heads).
    /// - Throws: ``WireError``.
    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        let header = try Header(&r)
        let encoded = try Self.readChanges(&r, count: header.count)
        var changes: [Change] = []
        changes.reserveCapacity(encoded.count)
        for bytes in encoded { changes.append(try Change(decoding: bytes)) }
        node = header.node
        keyId = header.keyId
        first = header.first
        last = header.last
        before = header.before
        after = header.after
        createdAt = header.createdAt
        self.changes = changes
        self.encodedChanges = encoded
        try checkConsistency()
    }

    /// The first sequence and the exact bytes of each change of an envelope the caller stored
    /// after verifying it: framing only, nothing decoded or verified again. The hub keeps each
    /// change's bytes once, in the envelope it holds as evidence, and reads them back this way
    /// for fan-out and recovery.
    public static func storedChanges(_ envelopeBytes: [UInt8]) throws(WireError) -> (first: UInt64, changes: [[UInt8]]) {
        var r = ByteReader(try Envelope(decoding: envelopeBytes).payload)
        let header = try Header(&r)
        return (header.first, try readChanges(&r, count: header.count))
    }

    /// The fields before the changes.
    private struct Header {
        var node: String, keyId: String, first: UInt64, last: UInt64, before: TreeHead, after: TreeHead, createdAt: UInt64, count: Int

        init(_ r: inout ByteReader) throws(WireError) {
            let version = try r.u8("changeset.version")
            guard version == 1 else { throw .version(field: "changeset", found: Int(version)) }
            node = try r.string("changeset.node", limit: Change.Limits.node)
            keyId = try r.string("changeset.keyId", limit: 32)
            first = try r.integer("changeset.first")
            last = try r.integer("changeset.last")
            before = TreeHead(size: try r.integer("changeset.beforeSize"), root: try r.hash("changeset.beforeRoot"))
            after = TreeHead(size: try r.integer("changeset.afterSize"), root: try r.hash("changeset.afterRoot"))
            createdAt = try r.integer("changeset.createdAt")
            let count = try r.uvarint("changeset.count")
            guard count <= UInt64(ChangeSet.maxChanges) else { throw .oversized(field: "changeset.count", limit: ChangeSet.maxChanges) }
            self.count = Int(count)
        }
    }

    private static func readChanges(_ r: inout ByteReader, count: Int) throws(WireError) -> [[UInt8]] {
        var encoded: [[UInt8]] = []
        // Each change takes at least its length byte: a count the bytes left cannot hold
        // allocates no more than they could (sync.md §1), and fails on reading.
        encoded.reserveCapacity(min(count, r.remaining))
        for _ in 0..<count { encoded.append(try r.lengthPrefixed("changeset.change", limit: Change.Limits.encoded)) }
        try r.finish()
        return encoded
    }

    private func checkConsistency() throws(WireError) {
        guard first >= 1, last >= first else { throw .inconsistent("the sequence range \(first)…\(last) is empty or starts below 1") }
        guard UInt64(changes.count) == last - first + 1 else {
            throw .inconsistent("\(changes.count) changes for the range \(first)…\(last)")
        }
        guard before.size == first - 1 else { throw .inconsistent("the log size before is \(before.size), not \(first - 1)") }
        guard after.size == last else { throw .inconsistent("the log size after is \(after.size), not \(last)") }
        for (i, change) in changes.enumerated() {
            guard change.node == node else { throw .inconsistent("change \(i) belongs to node \(change.node), not \(node)") }
            guard change.sequence == first + UInt64(i) else {
                throw .inconsistent("change \(i) has sequence \(change.sequence), expected \(first + UInt64(i))")
            }
        }
    }

    /// Checks the tree heads against the receiver's frontier of the node's log and returns the
    /// frontier after the set.
    /// - Throws: ``WireError/inconsistent(_:)`` when the heads do not follow from the log.
    public func extend(_ frontier: MerkleFrontier) throws(WireError) -> MerkleFrontier {
        try extend(frontier, leafHashes: encodedChanges.map { MerkleHash.leaf($0) })
    }

    /// ``extend(_:)`` with the changes' leaf hashes already computed (the hub computes them once
    /// for the node's log and its own).
    public func extend(_ frontier: MerkleFrontier, leafHashes: [Hash32]) throws(WireError) -> MerkleFrontier {
        guard frontier.size == before.size, frontier.root == before.root else {
            throw .inconsistent("the set starts from log head \(before), but the log held is \(frontier.head)")
        }
        guard leafHashes.count == encodedChanges.count else { throw .inconsistent("\(leafHashes.count) leaf hashes for \(encodedChanges.count) changes") }
        var tree = frontier
        for leaf in leafHashes { tree.append(leafHash: leaf) }
        guard tree.root == after.root else { throw .inconsistent("the log head after, \(after), does not follow from the changes") }
        return tree
    }

    /// Parses an envelope, verifies its signature by an active key of the node it names, and
    /// decodes and checks the set.
    /// - Parameter node: the node the set must come from, when the verifier knows it (the hub's
    ///   request path names it): signatures by other signers' keys are skipped, so that a set
    ///   signed by another key as well still opens on its node's (sync.md §3, step 3).
    /// - Throws: ``WireError``.
    public static func open(_ envelopeBytes: [UInt8], keys: KeyRegistry, node: String? = nil) throws(WireError) -> (envelope: Envelope, changeSet: ChangeSet) {
        let envelope = try Envelope(decoding: envelopeBytes)
        let (keyId, signer) = try envelope.verify(payloadType: Envelope.PayloadType.changeSet, keys: keys, signer: node)
        let set = try ChangeSet(decodingBody: envelope.payload)
        guard set.node == signer else { throw .untrustedKey(keyId: keyId, signer: set.node) }
        guard set.keyId == keyId else { throw .inconsistent("the body names key \(set.keyId) but key \(keyId) signed it") }
        return (envelope, set)
    }
}
