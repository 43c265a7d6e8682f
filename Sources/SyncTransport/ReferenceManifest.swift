import CreditCore
import Foundation
public import SyncProtocol

/// The list of catalog layers and holiday files the hub distributes, signed by the hub as an
/// envelope of type `creditsync/reference/v1` whose payload is this manifest as JSON
/// (`Protocol/hub-api.md`). A node trusts a file only when its SHA-256 is in a manifest signed
/// by its pinned hub key.
public struct ReferenceManifest: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// `catalog/NAME.json` or `calendar/NAME.json`.
        public var path: String
        /// Lowercase hex SHA-256 of the file's bytes.
        public var sha256: String
        public var size: Int

        public init(path: String, sha256: String, size: Int) {
            self.path = path
            self.sha256 = sha256
            self.size = size
        }
    }

    public static let payloadType = "creditsync/reference/v1"

    /// Sorted by path.
    public var files: [File]

    public init(files: [File]) { self.files = files.sorted { $0.path < $1.path } }

    /// A digest of the whole set, to notice a change cheaply.
    public var digest: String {
        Hash32.sha256(Array(files.map { "\($0.path) \($0.sha256)" }.joined(separator: "\n").utf8)).hex
    }

    /// Whether `path` is a path a manifest may name: one folder, one file name, no traversal.
    public static func isSafe(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, ["catalog", "calendar"].contains(parts[0]) else { return false }
        let name = parts[1]
        return name.hasSuffix(".json") && !name.hasPrefix(".") && name.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

    /// The signed envelope.
    public func signed(with key: SigningKey) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try Envelope.sign(payloadType: Self.payloadType, payload: Array(encoder.encode(self)), with: key).encoded
    }

    /// Parses and verifies a manifest signed by an active key of `hub`.
    public static func open(_ bytes: [UInt8], hub: String, keys: KeyRegistry) throws -> ReferenceManifest {
        let envelope = try Envelope(decoding: bytes)
        try envelope.verify(payloadType: payloadType, keys: keys, signer: hub)
        let manifest = try JSONValue.decode(ReferenceManifest.self, from: envelope.payload)
        guard manifest.files.allSatisfy({ isSafe($0.path) }) else { throw WireError.inconsistent("a manifest names an unsafe path") }
        return manifest
    }
}
