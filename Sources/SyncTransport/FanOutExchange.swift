public import SyncProtocol

/// What a node asks of the hub's fan-out (`GET /v1/nodes/{node}/fanout`, `Protocol/hub-api.md`).
public struct FanOutRequest: Sendable, Equatable {
    /// The batch starts after this hub-log position.
    public var after: UInt64
    /// The position the node has applied its fan-out through: what the request acknowledges. It
    /// is `after` except when the node asks for the next batch while it still applies one.
    public var applied: UInt64
    /// The size of the hub head the node pins, or will pin once the batch it applies is in: the
    /// hub sends the consistency proof from it to the served batch's head with the batch, which
    /// spares the node a request per batch.
    public var pinned: UInt64?
    /// How long the hub may hold the request for new entries.
    public var waitSeconds: Int

    public init(after: UInt64, applied: UInt64? = nil, pinned: UInt64? = nil, waitSeconds: Int = 0) {
        self.after = after
        self.applied = applied ?? after
        self.pinned = pinned
        self.waitSeconds = waitSeconds
    }

    /// The query string of the request (`?after=…&wait=…`, `applied` and `pinned` when they say something).
    public var query: String {
        var query = "?after=\(after)&wait=\(waitSeconds)"
        if applied != after { query += "&applied=\(applied)" }
        if let pinned { query += "&pinned=\(pinned)" }
        return query
    }
}

/// The hub's answer to a ``FanOutRequest``: the signed batch and, when the request named a pinned
/// size the batch's head extends, the consistency proof between the two.
public struct FanOutAnswer: Sendable, Equatable {
    /// The fan-out batch envelope, as signed.
    public var batch: [UInt8]
    /// The consistency proof from the log's first `first` entries to its first `second`.
    public var consistency: Consistency?

    /// A consistency proof and the two sizes it joins.
    public struct Consistency: Sendable, Equatable {
        public var first: UInt64
        public var second: UInt64
        public var proof: [Hash32]

        public init(first: UInt64, second: UInt64, proof: [Hash32]) {
            self.first = first
            self.second = second
            self.proof = proof
        }

        /// The response header that carries it.
        public static let header = "Creditsync-Consistency"

        /// The header's value: the two sizes and the proof's hashes in lowercase hex, separated
        /// by single spaces (`1200 1450 9f3c… 77ab…`).
        public var headerValue: String { ([String(first), String(second)] + proof.map(\.hex)).joined(separator: " ") }

        /// Reads a header value; nil when it is not two sizes and at most 64 hashes.
        public init?(headerValue: String) {
            let parts = headerValue.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts.count <= 66, let first = UInt64(parts[0]), let second = UInt64(parts[1]) else { return nil }
            var proof: [Hash32] = []
            for part in parts.dropFirst(2) {
                guard let hash = Hash32(hex: String(part)) else { return nil }
                proof.append(hash)
            }
            self.init(first: first, second: second, proof: proof)
        }
    }

    public init(batch: [UInt8], consistency: Consistency? = nil) {
        self.batch = batch
        self.consistency = consistency
    }
}
