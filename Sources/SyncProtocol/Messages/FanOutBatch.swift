/// The hub's signed batch of entries from its log for one node (`Protocol/sync.md` §6).
public struct FanOutBatch: Sendable, Equatable {
    /// The most change bytes a hub puts in one batch (`Protocol/hub-api.md`): half the envelope
    /// bound, so a batch of large records always fits an envelope every node accepts.
    public static let byteBudget = 8 << 20

    /// One hub log entry.
    public struct Entry: Sendable, Equatable {
        /// The entry's position in the hub log (1-based).
        public var position: UInt64
        public var change: Change
        /// The change's exact bytes, as the origin node signed them.
        public var encoded: [UInt8]

        public init(position: UInt64, encoded: [UInt8]) throws(WireError) {
            self.position = position
            self.encoded = encoded
            self.change = try Change(decoding: encoded)
        }
    }

    public var hub: String
    public var keyId: String
    /// The recipient node.
    public var node: String
    public var from: UInt64
    public var to: UInt64
    public var hubLog: TreeHead
    public var createdAt: UInt64
    public var entries: [Entry]

    public init(hub: String, keyId: String, node: String, from: UInt64, to: UInt64, hubLog: TreeHead,
                createdAt: UInt64, entries: [Entry]) throws(WireError) {
        self.hub = hub
        self.keyId = keyId
        self.node = node
        self.from = from
        self.to = to
        self.hubLog = hubLog
        self.createdAt = createdAt
        self.entries = entries
        try checkConsistency()
    }

    public var body: [UInt8] {
        Self.body(hub: hub, keyId: keyId, node: node, from: from, to: to, hubLog: hubLog, createdAt: createdAt,
                  entries: entries.map { ($0.position, $0.encoded) })
    }

    /// The body of a batch whose changes are held as bytes, encoded exactly as ``body``
    /// encodes it: the hub serves changes it verified when it merged them, and decoding each
    /// again only to encode it cost the hub a fifth of its fan-out work.
    public static func body(hub: String, keyId: String, node: String, from: UInt64, to: UInt64, hubLog: TreeHead, createdAt: UInt64,
                            entries: [(position: UInt64, encoded: [UInt8])]) -> [UInt8] {
        var w = ByteWriter(capacity: 200 + entries.reduce(0) { $0 + $1.encoded.count + 8 })
        w.u8(1)
        w.string(hub)
        w.string(keyId)
        w.string(node)
        w.uvarint(from)
        w.uvarint(to)
        w.uvarint(hubLog.size)
        w.hash(hubLog.root)
        w.uvarint(createdAt)
        w.uvarint(UInt64(entries.count))
        for e in entries {
            w.uvarint(e.position)
            w.lengthPrefixed(e.encoded)
        }
        return w.bytes
    }

    /// A signed batch of changes held as bytes (see ``body(hub:keyId:node:from:to:hubLog:createdAt:entries:)``),
    /// checked as ``init(hub:keyId:node:from:to:hubLog:createdAt:entries:)`` checks a batch.
    public static func signed(by key: SigningKey, hub: String, node: String, from: UInt64, to: UInt64, hubLog: TreeHead, createdAt: UInt64,
                              entries: [(position: UInt64, encoded: [UInt8])]) throws -> Envelope {
        try checkConsistency(from: from, to: to, hubLog: hubLog, positions: entries.lazy.map(\.position))
        return try Envelope.sign(payloadType: Envelope.PayloadType.fanOut,
                                 payload: body(hub: hub, keyId: key.keyId, node: node, from: from, to: to, hubLog: hubLog,
                                               createdAt: createdAt, entries: entries),
                                 with: key)
    }

    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        let version = try r.u8("fanout.version")
        guard version == 1 else { throw .version(field: "fanout", found: Int(version)) }
        hub = try r.string("fanout.hub", limit: 16)
        keyId = try r.string("fanout.keyId", limit: 32)
        node = try r.string("fanout.node", limit: 16)
        from = try r.integer("fanout.from")
        to = try r.integer("fanout.to")
        hubLog = TreeHead(size: try r.integer("fanout.hubLogSize"), root: try r.hash("fanout.hubLogRoot"))
        createdAt = try r.integer("fanout.createdAt")
        let count = try r.uvarint("fanout.count")
        guard count <= UInt64(ChangeSet.maxChanges) else { throw .oversized(field: "fanout.count", limit: ChangeSet.maxChanges) }
        var entries: [Entry] = []
        // Each entry takes at least two bytes (its position and its length): a count the bytes
        // left cannot hold allocates no more than they could (sync.md §1), and fails on reading.
        entries.reserveCapacity(min(Int(count), r.remaining / 2))
        for _ in 0..<count {
            let position = try r.integer("fanout.position")
            entries.append(try Entry(position: position, encoded: try r.lengthPrefixed("fanout.change", limit: Change.Limits.encoded)))
        }
        try r.finish()
        self.entries = entries
        try checkConsistency()
    }

    private func checkConsistency() throws(WireError) {
        try Self.checkConsistency(from: from, to: to, hubLog: hubLog, positions: entries.lazy.map(\.position))
    }

    private static func checkConsistency(from: UInt64, to: UInt64, hubLog: TreeHead, positions: some Sequence<UInt64>) throws(WireError) {
        guard from >= 1, to >= from - 1, hubLog.size >= to else {
            throw .inconsistent("fan-out range \(from)…\(to) with hub log size \(hubLog.size)")
        }
        var previous = from - 1
        for position in positions {
            guard position > previous, position <= to else {
                throw .inconsistent("entry position \(position) is not increasing within \(from)…\(to)")
            }
            previous = position
        }
    }

    public func signed(with key: SigningKey) throws -> Envelope {
        try Envelope.sign(payloadType: Envelope.PayloadType.fanOut, payload: body, with: key)
    }

    /// Parses and verifies a batch signed by an active key of `hub` (the node's pinned hub key).
    public static func open(_ bytes: [UInt8], hub: String, keys: KeyRegistry) throws(WireError) -> FanOutBatch {
        let envelope = try Envelope(decoding: bytes)
        let (keyId, _) = try envelope.verify(payloadType: Envelope.PayloadType.fanOut, keys: keys, signer: hub)
        let batch = try FanOutBatch(decodingBody: envelope.payload)
        guard batch.hub == hub else { throw .untrustedKey(keyId: keyId, signer: batch.hub) }
        guard batch.keyId == keyId else { throw .inconsistent("the body names key \(batch.keyId) but key \(keyId) signed it") }
        return batch
    }
}
