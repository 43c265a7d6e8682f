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

    /// `GET ?after=N`: the node's own changes as the hub holds them (recovery after a restore).
    public static func recover(node: String) -> String { "/v1/nodes/\(node)/changes" }

    /// `GET`: the signed reference manifest; `GET /v1/reference/{folder}/{name}`: one file.
    public static let reference = "/v1/reference"

    /// Media type of envelope bodies.
    public static let envelopeType = "application/vnd.creditsync.envelope"
    /// The header carrying a node's request signature on reads and acknowledgements.
    public static let authorizationScheme = "CreditSync-Ed25519"
}
