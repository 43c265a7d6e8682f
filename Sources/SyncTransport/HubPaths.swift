import Foundation

/// The hub's HTTP paths and media types (`Protocol/hub-api.md`), shared by the node's client and
/// the hub's server so that the two cannot drift apart.
public enum HubPaths {
    /// `POST`: a change-set envelope; answers a receipt envelope.
    public static func changeSets(node: String) -> String { "/v1/nodes/\(node)/changesets" }
    /// `GET`: the node's acknowledged position (JSON).
    public static func position(node: String) -> String { "/v1/nodes/\(node)/position" }
    /// `GET ?after=N&wait=S`: a fan-out batch envelope.
    public static func fanOut(node: String) -> String { "/v1/nodes/\(node)/fanout" }
    /// `POST` JSON `{"through": N}`.
    public static func fanOutAck(node: String) -> String { "/v1/nodes/\(node)/fanout/ack" }

    /// `GET`: the hub's signed account of the records it holds about a subject (Article 38).
    public static func subject(node: String, subject: String) -> String {
        "/v1/nodes/\(node)/subjects/\(subject.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? subject)"
    }

    /// `GET ?after=N`: the node's own changes as the hub holds them (recovery after a restore).
    public static func recover(node: String) -> String { "/v1/nodes/\(node)/changes" }

    /// `GET ?after=N`: the node's changes after sequence N that the hub refused (`creditsync/refusals/v1`).
    public static func refusals(node: String) -> String { "/v1/nodes/\(node)/refusals" }

    /// `GET`: the hub log's signed tree head (`creditsync/treehead/v1`).
    public static let logHead = "/v1/log/head"
    /// `GET ?first=M&second=N`: a consistency proof between two sizes of the hub log (JSON).
    public static let consistency = "/v1/log/consistency"
    /// `GET ?position=P&size=N`: an entry's leaf hash and inclusion proof (JSON).
    public static let inclusion = "/v1/log/inclusion"

    /// `GET`: the signed reference manifest; `GET /v1/reference/{folder}/{name}`: one file.
    public static let reference = "/v1/reference"

    /// Media type of envelope bodies.
    public static let envelopeType = "application/vnd.creditsync.envelope"
    /// The scheme of the header carrying a node's request signature, on every `/v1/nodes/…` request.
    public static let authorizationScheme = "CreditSync-Ed25519"
}
