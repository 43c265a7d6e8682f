public import Foundation
public import SyncProtocol

/// Authenticates a node's requests that carry no signed envelope (fan-out reads and
/// acknowledgements): an Ed25519 signature over the method, path and query, and a timestamp,
/// sent as `Authorization: CreditSync-Ed25519 node=…,key=…,ts=…,sig=…`.
///
/// The hub refuses a timestamp more than ``maxSkew`` away from its clock, which bounds replay.
public enum RequestSignature {
    public static let maxSkew: TimeInterval = 300

    /// The bytes signed: `creditsync-request-v1\nMETHOD\nPATH?QUERY\nTIMESTAMP`.
    public static func message(method: String, target: String, timestamp: Int64) -> [UInt8] {
        Array("creditsync-request-v1\n\(method)\n\(target)\n\(timestamp)".utf8)
    }

    /// The header value for a request.
    public static func header(node: String, key: SigningKey, method: String, target: String, now: Date) throws -> String {
        let ts = Int64(now.timeIntervalSince1970)
        let sig = try key.sign(message(method: method, target: target, timestamp: ts))
        return "\(HubPaths.authorizationScheme) node=\(node),key=\(key.keyId),ts=\(ts),sig=\(Data(sig).base64EncodedString())"
    }

    /// A parsed header.
    public struct Parsed: Sendable, Equatable {
        public var node: String
        public var keyId: String
        public var timestamp: Int64
        public var signature: [UInt8]
    }

    /// Parses a header value; `nil` when malformed.
    public static func parse(_ value: String) -> Parsed? {
        guard value.hasPrefix(HubPaths.authorizationScheme + " ") else { return nil }
        var fields: [String: String] = [:]
        for part in value.dropFirst(HubPaths.authorizationScheme.count + 1).split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { return nil }
            fields[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        guard let node = fields["node"], let key = fields["key"], let ts = fields["ts"].flatMap(Int64.init),
              let sig = fields["sig"].flatMap({ Data(base64Encoded: $0) }) else { return nil }
        return Parsed(node: node, keyId: key, timestamp: ts, signature: Array(sig))
    }

    /// Verifies a parsed header for a request to `target` against the registry and clock.
    /// - Returns: the node, when the signature is by an active key of that node and fresh.
    public static func verify(_ parsed: Parsed, method: String, target: String, keys: KeyRegistry, now: Date) -> Bool {
        guard abs(now.timeIntervalSince1970 - TimeInterval(parsed.timestamp)) <= maxSkew,
              let key = keys.activeKey(parsed.keyId, of: parsed.node) else { return false }
        return key.verify(signature: parsed.signature, for: message(method: method, target: target, timestamp: parsed.timestamp))
    }
}
