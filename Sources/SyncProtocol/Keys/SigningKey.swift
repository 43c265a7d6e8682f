import Crypto
public import Foundation

/// An Ed25519 public key with its key id (`Protocol/sync.md` §9).
public struct VerifyingKey: Sendable, Hashable {
    public let raw: [UInt8]
    public let keyId: String
    private let key: Curve25519.Signing.PublicKey

    /// A key from its 32 raw bytes.
    public init(raw: [UInt8]) throws(KeyError) {
        guard raw.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw .malformed("an Ed25519 public key is 32 bytes")
        }
        self.raw = raw
        self.key = key
        self.keyId = Self.keyId(of: raw)
    }

    /// The key id: lowercase hex of the first 16 bytes of SHA-256 of the raw public key.
    public static func keyId(of raw: [UInt8]) -> String {
        Array(Hash32.sha256(raw).bytes.prefix(16)).hex
    }

    /// Whether `signature` is this key's signature of `message`.
    public func verify(signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    public static func == (a: VerifyingKey, b: VerifyingKey) -> Bool { a.raw == b.raw }
    public func hash(into hasher: inout Hasher) { hasher.combine(raw) }
}

/// An Ed25519 private key.
public struct SigningKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey
    public let publicKey: VerifyingKey
    /// When the key was made (recorded in its file).
    public let created: Date

    /// A new random key.
    public init(created: Date = Date()) {
        self.init(key: Curve25519.Signing.PrivateKey(), created: created)
    }

    /// The key with a 32-byte seed (RFC 8032's private key).
    public init(seed: [UInt8], created: Date = Date(timeIntervalSince1970: 0)) throws(KeyError) {
        guard seed.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw .malformed("an Ed25519 private key is a 32-byte seed")
        }
        self.init(key: key, created: created)
    }

    private init(key: Curve25519.Signing.PrivateKey, created: Date) {
        self.key = key
        self.created = created
        self.publicKey = try! VerifyingKey(raw: Array(key.publicKey.rawRepresentation))
    }

    public var keyId: String { publicKey.keyId }

    /// The 32-byte seed, for the key file only.
    public var seed: [UInt8] { Array(key.rawRepresentation) }

    /// Signs `message` (deterministic Ed25519).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        Array(try key.signature(for: message))
    }
}

/// Why a key or key file was refused.
public enum KeyError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case file(path: String, reason: String)
    case permissions(path: String, mode: Int)

    public var description: String {
        switch self {
        case let .malformed(reason): "invalid key: \(reason)"
        case let .file(path, reason): "key file \(path): \(reason)"
        case let .permissions(path, mode):
            "key file \(path) is readable by others (mode \(String(mode, radix: 8))); make it 0600, owned by the user the daemon runs as"
        }
    }
}
