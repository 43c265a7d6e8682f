/// The signed container every protocol message travels and is stored in (`Protocol/sync.md` §3).
///
/// The signature covers DSSE's pre-authentication encoding of the payload type and the SHA-256
/// digest of the exact payload bytes (``signingInput(type:payload:)``); the envelope keeps the
/// bytes it was parsed from, so that what the hub stores as evidence is byte for byte what the
/// node signed.
public struct Envelope: Sendable, Equatable {
    /// One signature.
    public struct Signature: Sendable, Equatable {
        public var keyId: String
        public var bytes: [UInt8]

        public init(keyId: String, bytes: [UInt8]) {
            self.keyId = keyId
            self.bytes = bytes
        }
    }

    public var payloadType: String
    public var payload: [UInt8]
    public var signatures: [Signature]

    public static let magic: [UInt8] = Array("CSE1".utf8)
    public static let maxBytes = 16 << 20
    public static let maxSignatures = 4

    /// The payload types of §3.
    public enum PayloadType {
        public static let changeSet = "creditsync/changeset/v1"
        public static let receipt = "creditsync/receipt/v1"
        public static let fanOut = "creditsync/fanout/v1"
        public static let treeHead = "creditsync/treehead/v1"
        /// The hub's answer to `GET /v1/nodes/{node}/position`: JSON (`Protocol/hub-api.md`).
        public static let position = "creditsync/position/v1"
    }

    public init(payloadType: String, payload: [UInt8], signatures: [Signature]) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
    }

    /// Signs `payload` with `key`.
    public static func sign(payloadType: String, payload: [UInt8], with key: SigningKey) throws -> Envelope {
        let signature = try key.sign(signingInput(type: payloadType, payload: payload))
        return Envelope(payloadType: payloadType, payload: payload,
                        signatures: [Signature(keyId: key.keyId, bytes: signature)])
    }

    /// What an envelope's signatures sign (`Protocol/sync.md` §3): the DSSE pre-authentication
    /// encoding of the payload type and the payload's SHA-256 digest, not of the payload itself.
    /// Ed25519 hashes its whole message twice with SHA-512 to sign and once to verify; a batch of
    /// thousands of changes is megabytes, and hashing it once with SHA-256, which this
    /// processor's SHA extensions compute several times faster, cut the hub's CPU per change.
    public static func signingInput(type: String, payload: [UInt8]) -> [UInt8] {
        pae(type: type, body: Hash32.sha256(payload).bytes)
    }

    /// DSSE v1 pre-authentication encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
    public static func pae(type: String, body: [UInt8]) -> [UInt8] {
        var out = Array("DSSEv1 \(type.utf8.count) \(type) \(body.count) ".utf8)
        out.append(contentsOf: body)
        return out
    }

    /// The encoding that travels and is stored.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: payload.count + 128 + 100 * signatures.count)
        w.raw(Self.magic)
        w.string(payloadType)
        w.lengthPrefixed(payload)
        w.u8(UInt8(signatures.count))
        for s in signatures {
            w.string(s.keyId)
            w.lengthPrefixed(s.bytes)
        }
        return w.bytes
    }

    /// Parses an envelope that must span all of `bytes`. Signatures are not verified here.
    /// - Throws: ``WireError``.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= Self.maxBytes else { throw .oversized(field: "envelope", limit: Self.maxBytes) }
        var r = ByteReader(bytes)
        guard try r.raw("envelope.magic", count: 4) == Self.magic else { throw .magic }
        payloadType = try r.string("envelope.payloadType", limit: 128)
        payload = try r.lengthPrefixed("envelope.payload", limit: Self.maxBytes)
        let count = Int(try r.u8("envelope.signatureCount"))
        guard (1...Self.maxSignatures).contains(count) else { throw .signature("\(count) signatures; 1 to 4 are allowed") }
        var signatures: [Signature] = []
        for _ in 0..<count {
            let keyId = try r.string("envelope.keyId", limit: 32)
            let length = try r.uvarint("envelope.signatureLength")
            guard length == 64 else { throw .signature("an Ed25519 signature is 64 bytes, got \(length)") }
            let sig = try r.raw("envelope.signature", count: 64)
            signatures.append(Signature(keyId: keyId, bytes: sig))
        }
        self.signatures = signatures
        try r.finish()
    }

    /// Checks the payload type and that at least one signature is by an active enrolled key and
    /// verifies over the exact payload bytes (through their digest, ``signingInput(type:payload:)``). The payload is not decoded before this succeeds.
    /// - Parameter signer: when given, the key must belong to this signer.
    /// - Returns: the key id that verified and the signer it belongs to.
    /// - Throws: ``WireError/payloadType(expected:found:)``, ``WireError/untrustedKey(keyId:signer:)``,
    ///   ``WireError/badSignature(keyId:)``.
    @discardableResult
    public func verify(payloadType expected: String, keys: KeyRegistry, signer: String? = nil) throws(WireError) -> (keyId: String, signer: String) {
        guard payloadType == expected else { throw .payloadType(expected: expected, found: payloadType) }
        var failure: WireError?
        var input: [UInt8]?
        for s in signatures {
            guard let entry = keys.entry(s.keyId), entry.status == .active, signer == nil || entry.signer == signer else {
                failure = failure ?? .untrustedKey(keyId: s.keyId, signer: signer ?? keys.entry(s.keyId)?.signer ?? "any enrolled signer")
                continue
            }
            if input == nil { input = Self.signingInput(type: payloadType, payload: payload) }
            if entry.key.verify(signature: s.bytes, for: input!) { return (s.keyId, entry.signer) }
            failure = .badSignature(keyId: s.keyId)
        }
        throw failure ?? .signature("no signatures")
    }
}
