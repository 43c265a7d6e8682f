/// The hub's signed acknowledgement of a change set (`Protocol/sync.md` §5). A node keeps it as
/// proof that the hub took responsibility for those changes.
public struct Receipt: Sendable, Equatable {
    public var hub: String
    public var keyId: String
    public var node: String
    public var first: UInt64
    public var last: UInt64
    public var tree: TreeHead
    /// SHA-256 of the change-set envelope bytes as received.
    public var envelopeDigest: Hash32
    public var receivedAt: UInt64

    public init(hub: String, keyId: String, node: String, first: UInt64, last: UInt64, tree: TreeHead,
                envelopeDigest: Hash32, receivedAt: UInt64) {
        self.hub = hub
        self.keyId = keyId
        self.node = node
        self.first = first
        self.last = last
        self.tree = tree
        self.envelopeDigest = envelopeDigest
        self.receivedAt = receivedAt
    }

    public var body: [UInt8] {
        var w = ByteWriter(capacity: 160)
        w.u8(1)
        w.string(hub)
        w.string(keyId)
        w.string(node)
        w.uvarint(first)
        w.uvarint(last)
        w.uvarint(tree.size)
        w.hash(tree.root)
        w.hash(envelopeDigest)
        w.uvarint(receivedAt)
        return w.bytes
    }

    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        var r = ByteReader(bytes)
        let version = try r.u8("receipt.version")
        guard version == 1 else { throw .version(field: "receipt", found: Int(version)) }
        hub = try r.string("receipt.hub", limit: 16)
        keyId = try r.string("receipt.keyId", limit: 32)
        node = try r.string("receipt.node", limit: 16)
        first = try r.integer("receipt.first")
        last = try r.integer("receipt.last")
        tree = TreeHead(size: try r.integer("receipt.treeSize"), root: try r.hash("receipt.treeRoot"))
        envelopeDigest = try r.hash("receipt.envelopeDigest")
        receivedAt = try r.integer("receipt.receivedAt")
        try r.finish()
        guard last >= first, tree.size == last else { throw .inconsistent("receipt range \(first)…\(last) with log size \(tree.size)") }
    }

    public func signed(with key: SigningKey) throws -> Envelope {
        try Envelope.sign(payloadType: Envelope.PayloadType.receipt, payload: body, with: key)
    }

    /// Parses and verifies a receipt signed by an active key of `hub`.
    public static func open(_ bytes: [UInt8], hub: String, keys: KeyRegistry) throws(WireError) -> Receipt {
        let envelope = try Envelope(decoding: bytes)
        let (keyId, _) = try envelope.verify(payloadType: Envelope.PayloadType.receipt, keys: keys, signer: hub)
        let receipt = try Receipt(decodingBody: envelope.payload)
        guard receipt.hub == hub else { throw .untrustedKey(keyId: keyId, signer: receipt.hub) }
        guard receipt.keyId == keyId else { throw .inconsistent("the body names key \(receipt.keyId) but key \(keyId) signed it") }
        return receipt
    }
}
