/// A log's tree head signed by the log's owner (`Protocol/sync.md` §7): what a node publishes
/// about its log and the hub about its own, so that a rollback or a fork can be proven.
public struct SignedTreeHead: Sendable, Equatable {
    /// The node id or the hub id.
    public var log: String
    public var keyId: String
    public var head: TreeHead
    public var timestamp: UInt64

    public init(log: String, keyId: String, head: TreeHead, timestamp: UInt64) {
        self.log = log
        self.keyId = keyId
        self.head = head
        self.timestamp = timestamp
    }

    public var body: [UInt8] {
        var w = ByteWriter(capacity: 100)
        w.u8(1)
        w.string(log)
        w.string(keyId)
        w.uvarint(head.size)
        w.hash(head.root)
        w.uvarint(timestamp)
        return w.bytes
    }

    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        let version = try r.u8("treehead.version")
        guard version == 1 else { throw .version(field: "treehead", found: Int(version)) }
        log = try r.string("treehead.log", limit: 16)
        keyId = try r.string("treehead.keyId", limit: 32)
        head = TreeHead(size: try r.integer("treehead.size"), root: try r.hash("treehead.root"))
        timestamp = try r.integer("treehead.timestamp")
        try r.finish()
    }

    public func signed(with key: SigningKey) throws -> Envelope {
        try Envelope.sign(payloadType: Envelope.PayloadType.treeHead, payload: body, with: key)
    }

    /// Parses and verifies a tree head signed by an active key of `signer`.
    public static func open(_ bytes: [UInt8], signer: String, keys: KeyRegistry) throws(WireError) -> SignedTreeHead {
        let envelope = try Envelope(decoding: bytes)
        let (keyId, _) = try envelope.verify(payloadType: Envelope.PayloadType.treeHead, keys: keys, signer: signer)
        let sth = try SignedTreeHead(decodingBody: envelope.payload)
        guard sth.log == signer else { throw .untrustedKey(keyId: keyId, signer: sth.log) }
        guard sth.keyId == keyId else { throw .inconsistent("the body names key \(sth.keyId) but key \(keyId) signed it") }
        return sth
    }
}
