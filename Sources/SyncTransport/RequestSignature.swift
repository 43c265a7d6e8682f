public import Foundation
public import SyncProtocol

/// Authenticates a node's requests that carry no signed envelope (position and fan-out reads,
/// acknowledgements): an Ed25519 signature over the method, the target, a timestamp, a nonce and
/// the SHA-256 of the body, sent as
/// `Authorization: CreditSync-Ed25519 node=…,key=…,ts=…,nonce=…,sig=…` (`Protocol/hub-api.md`).
///
/// The body digest binds what an acknowledgement claims to its signature; the hub refuses a
/// timestamp more than ``maxSkew`` away from its clock and a nonce it has seen (``ReplayGuard``
/// at the hub), so a captured header can be used neither with another body nor again.
public enum RequestSignature {
    public static let maxSkew: TimeInterval = 300

    /// The bytes signed:
    /// `creditsync-request-v2\nMETHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nhex(SHA-256(body))`.
    public static func message(method: String, target: String, timestamp: Int64, nonce: String, body: [UInt8]) -> [UInt8] {
        Array("creditsync-request-v2\n\(method)\n\(target)\n\(timestamp)\n\(nonce)\n\(Hash32.sha256(body).hex)".utf8)
    }

    /// A fresh nonce: 16 random bytes as lowercase hex.
    public static func makeNonce() -> String {
        // Two 64-bit draws: a byte at a time had cost a system call per byte.
        var generator = SystemRandomNumberGenerator()
        return [generator.next(), generator.next()].map { (word: UInt64) in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// The header value for a request.
    public static func header(node: String, key: SigningKey, method: String, target: String, body: [UInt8], now: Date,
                              nonce: String = makeNonce()) throws -> String {
        let ts = Int64(now.timeIntervalSince1970)
        let sig = try key.sign(message(method: method, target: target, timestamp: ts, nonce: nonce, body: body))
        return "\(HubPaths.authorizationScheme) node=\(node),key=\(key.keyId),ts=\(ts),nonce=\(nonce),sig=\(Data(sig).base64EncodedString())"
    }

    /// A parsed header.
    public struct Parsed: Sendable, Equatable {
        public var node: String
        public var keyId: String
        public var timestamp: Int64
        public var nonce: String
        public var signature: [UInt8]
    }

    /// Parses a header value; `nil` when malformed (a nonce must be 16–64 lowercase hex digits).
    public static func parse(_ value: String) -> Parsed? {
        guard let credentials = AuthorizationHeader.credentials(value, scheme: HubPaths.authorizationScheme) else { return nil }
        var fields: [String: String] = [:]
        for part in credentials.split(separator: ",") {
            guard let eq = part.firstIndex(of: "="), fields.updateValue(String(part[part.index(after: eq)...]), forKey: String(part[..<eq])) == nil
            else { return nil }
        }
        guard let node = fields["node"], let key = fields["key"], let ts = fields["ts"].flatMap(Int64.init),
              let nonce = fields["nonce"], (16...64).contains(nonce.utf8.count), nonce.utf8.allSatisfy(Self.isLowercaseHexDigit),
              let sig = fields["sig"].flatMap({ Data(base64Encoded: $0) }) else { return nil }
        return Parsed(node: node, keyId: key, timestamp: ts, nonce: nonce, signature: Array(sig))
    }

    /// `0`–`9` and `a`–`f` in ASCII: `Character.isHexDigit` also takes the full-width forms.
    static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// Verifies a parsed header for a request to `target` with `body` against the registry and
    /// clock (not against replays: the hub's ``ReplayGuard`` does that).
    public static func verify(_ parsed: Parsed, method: String, target: String, body: [UInt8], keys: KeyRegistry, now: Date) -> Bool {
        guard isFresh(parsed, now: now), let key = keys.activeKey(parsed.keyId, of: parsed.node) else { return false }
        return key.verify(signature: parsed.signature,
                          for: message(method: method, target: target, timestamp: parsed.timestamp, nonce: parsed.nonce, body: body))
    }

    /// Whether the header's timestamp is within ``maxSkew`` of `now`.
    public static func isFresh(_ parsed: Parsed, now: Date) -> Bool {
        abs(now.timeIntervalSince1970 - TimeInterval(parsed.timestamp)) <= maxSkew
    }
}
