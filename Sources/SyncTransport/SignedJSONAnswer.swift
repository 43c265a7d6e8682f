import CreditCore
import Foundation
public import SyncProtocol

/// A hub answer whose payload is JSON (`Protocol/hub-api.md`: the position, a subject's
/// attestation, the refusal list): one encoding for all of them, JSON with sorted keys, no
/// escaped slash and its text as UTF-8, signed in an envelope of the answer's own payload type.
/// The refusal list's vectors (`sync.json`) pin the encoding byte for byte.
public protocol SignedJSONAnswer: Codable, Sendable {
    /// The envelope's payload type, `creditsync/…/v1`.
    static var payloadType: String { get }
}

extension SignedJSONAnswer {
    /// The envelope the hub answers with.
    public func signed(with key: SigningKey) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try Envelope.sign(payloadType: Self.payloadType, payload: Array(encoder.encode(self)), with: key).encoded
    }

    /// The answer in `bytes`, once its envelope is of this type and verifies with an active key
    /// of `hub`; the caller checks that it answers what was asked.
    static func verified(_ bytes: [UInt8], hub: String, keys: KeyRegistry) throws -> Self {
        let envelope = try Envelope(decoding: bytes)
        _ = try envelope.verify(payloadType: payloadType, keys: keys, signer: hub)
        return try JSONValue.decode(Self.self, from: envelope.payload)
    }
}
