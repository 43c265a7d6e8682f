import Foundation
public import SyncProtocol
public import SyncTransport

/// A hub in memory that speaks the node–hub protocol faithfully (signature and continuity
/// checks, idempotent re-acknowledgement, refusal of equivocation, signed receipts and fan-out
/// batches), with failures a test can inject. The real hub daemon is tested against the same
/// contract.
public actor InMemoryHub: HubTransport {
    public nonisolated let id = "360000"
    public let key: SigningKey
    private var nodeKeys = KeyRegistry()
    private var frontiers: [String: MerkleFrontier] = [:]
    private var accepted: [String: [(first: UInt64, last: UInt64, envelope: [UInt8], receipt: [UInt8])]] = [:]
    /// The hub log: every change in the order received.
    public private(set) var log: [[UInt8]] = []
    public private(set) var fanOutAcknowledged: [String: UInt64] = [:]
    public private(set) var pushCount = 0
    public private(set) var equivocations = 0
    /// The pinned hub head each node last pushed with.
    public private(set) var pinnedReports: [String: TreeHead] = [:]
    private var failures: [TransportError] = []
    private var loseNextReceipts = 0

    public init(key: SigningKey = SyncFixtures.key("hub")) {
        self.key = key
    }

    /// The hub's public keys as a node pins them.
    public nonisolated var publicKeys: KeyRegistry {
        var registry = KeyRegistry()
        try! registry.enroll(key.publicKey, for: "360000")
        return registry
    }

    public func enroll(_ key: VerifyingKey, node: String) throws { try nodeKeys.enroll(key, for: node) }

    /// The next `count` requests fail with `error` before doing anything.
    public func fail(_ count: Int, with error: TransportError) {
        failures.append(contentsOf: Array(repeating: error, count: count))
    }

    /// The next `count` pushes are processed but their receipts are lost on the way back.
    public func loseReceipts(_ count: Int) { loseNextReceipts += count }

    /// From now on, pushes are stored but their receipts wait for ``releaseReceipts()``: a hub
    /// slow to answer.
    public func holdReceipts() { holding = true }

    /// Sends every receipt held and holds no more.
    public func releaseReceipts() {
        holding = false
        for waiting in held { waiting.resume() }
        held = []
    }
    private var holding = false
    private var held: [CheckedContinuation<Void, Never>] = []

    /// The change-set envelopes taken from `node`, as they came.
    public func acceptedEnvelopes(node: String) -> [[UInt8]] { accepted[node]?.map(\.envelope) ?? [] }

    /// Forgets everything after `size` changes of `node` (a hub restored from an older backup).
    public func rollBack(node: String, to size: UInt64) {
        let sets = (accepted[node] ?? []).filter { $0.last <= size }
        accepted[node] = sets
        var f = MerkleFrontier()
        for set in sets { f = try! ChangeSet(decodingBody: Envelope(decoding: set.envelope).payload).extend(f) }
        frontiers[node] = f
    }

    public func acknowledged(node: String) -> UInt64 { frontiers[node]?.size ?? 0 }

    private func injected() throws(TransportError) {
        if !failures.isEmpty { throw failures.removeFirst() }
    }

    /// Rewrites the hub log's history: the same entries in reverse order, so that no consistency
    /// proof joins a head pinned before to any head after (a hub showing two histories).
    public func rewriteHistory() { log.reverse() }

    /// Forgets the hub log after its first `size` entries (a hub restored from an older backup,
    /// as its nodes see it).
    public func truncateLog(to size: Int) { log = Array(log.prefix(size)) }

    public func push(node: String, envelope: [UInt8], pinned: TreeHead?) async throws(TransportError) -> [UInt8] {
        try injected()
        pushCount += 1
        if let pinned { pinnedReports[node] = pinned }
        let set: ChangeSet
        do { set = try ChangeSet.open(envelope, keys: nodeKeys).changeSet } catch {
            throw .refused(status: 422, code: error.code, message: "\(error)")
        }
        guard set.node == node else { throw .refused(status: 403, code: "wrong-node", message: "set of \(set.node) posted for \(node)") }
        if let previous = accepted[node]?.first(where: { $0.first == set.first }) {
            guard previous.envelope == envelope else {
                equivocations += 1
                throw .refused(status: 409, code: "equivocation", message: "a different change set for \(set.first)…\(set.last)")
            }
            return previous.receipt
        }
        let frontier = frontiers[node] ?? MerkleFrontier()
        guard set.first == frontier.size + 1 else { throw .gap(expected: frontier.size + 1) }
        let next: MerkleFrontier
        do { next = try set.extend(frontier) } catch { throw .refused(status: 422, code: error.code, message: "\(error)") }
        let receipt = Receipt(hub: id, keyId: key.keyId, node: node, first: set.first, last: set.last, tree: next.head,
                              envelopeDigest: .sha256(envelope), receivedAt: 1_790_000_000_000)
        let receiptBytes = try! receipt.signed(with: key).encoded
        frontiers[node] = next
        accepted[node, default: []].append((set.first, set.last, envelope, receiptBytes))
        log.append(contentsOf: set.encodedChanges)
        if holding { await withCheckedContinuation { held.append($0) } }
        if loseNextReceipts > 0 {
            loseNextReceipts -= 1
            throw .unreachable("connection reset after the hub stored the set")
        }
        return receiptBytes
    }

    public func position(node: String) async throws(TransportError) -> HubPosition {
        try injected()
        let f = frontiers[node] ?? MerkleFrontier()
        return HubPosition(acknowledged: f.size, treeRoot: f.root.hex)
    }

    /// The batch alone: this hub sends no consistency proof with it, so the receiver asks for one.
    public func pull(node: String, _ request: FanOutRequest) async throws(TransportError) -> FanOutAnswer {
        try injected()
        // As the real hub: a request beyond the log is answered from its end.
        let after = min(request.after, UInt64(log.count))
        var tree = MerkleTree()
        for c in log { tree.append(leafData: c) }
        // As the real hub (Protocol/merge.md §4): a node's own changes are left out of its fan-out.
        let considered = log.enumerated().filter { UInt64($0.offset + 1) > after }.prefix(ChangeSet.maxChanges)
        let entries = considered.filter { (try? Change(decoding: $0.element))?.node != node }
            .map { try! FanOutBatch.Entry(position: UInt64($0.offset + 1), encoded: $0.element) }
        let to = considered.last.map { UInt64($0.offset + 1) } ?? after
        let batch = try! FanOutBatch(hub: id, keyId: key.keyId, node: node, from: after + 1, to: to, hubLog: tree.head,
                                     createdAt: 1_790_000_000_000, entries: entries)
        return FanOutAnswer(batch: try! batch.signed(with: key).encoded)
    }

    public func consistencyProof(first: UInt64, second: UInt64) async throws(TransportError) -> [Hash32] {
        try injected()
        guard first <= second, second <= UInt64(log.count) else {
            throw .refused(status: 400, code: "beyond-log", message: "no proof for \(first)…\(second)")
        }
        var tree = MerkleTree()
        for c in log { tree.append(leafData: c) }
        return tree.consistencyProof(oldSize: first, newSize: second)
    }

    public func recover(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        try injected()
        var changes: [[UInt8]] = []
        for set in accepted[node] ?? [] { changes += try! ChangeSet(decodingBody: Envelope(decoding: set.envelope).payload).encodedChanges }
        let entries = changes.enumerated().filter { UInt64($0.offset + 1) > after }.prefix(1000)
            .map { try! FanOutBatch.Entry(position: UInt64($0.offset + 1), encoded: $0.element) }
        let head = (frontiers[node] ?? MerkleFrontier()).head
        let batch = try! FanOutBatch(hub: id, keyId: key.keyId, node: node, from: after + 1, to: entries.last?.position ?? max(after, head.size),
                                     hubLog: head, createdAt: 1_790_000_000_000, entries: entries)
        return try! batch.signed(with: key).encoded
    }

    public func subjectAttestation(node: String, subject: String) async throws(TransportError) -> [UInt8] {
        throw .refused(status: 404, code: "not-found", message: "the in-memory hub keeps no subject index")
    }

    /// This hub merges nothing, so it refuses nothing: every list is empty, through its position.
    /// Not subject to injected failures, which the tests aim at pushes and pulls.
    public func refusals(node: String, after: UInt64) async throws(TransportError) -> [UInt8] {
        let f = frontiers[node] ?? MerkleFrontier()
        let list = RefusalList(node: node, after: after, through: f.size, acknowledged: f.size, treeRoot: f.root.hex,
                               at: 1_790_000_000_000, incarnation: "00000000000000a1", refusals: [])
        return try! list.signed(with: key)
    }

    public func referenceManifest() async throws(TransportError) -> [UInt8] {
        throw .refused(status: 404, code: "not-found", message: "the in-memory hub distributes no reference data")
    }

    public func referenceFile(_ path: String) async throws(TransportError) -> [UInt8] {
        throw .refused(status: 404, code: "not-found", message: path)
    }

    public func acknowledge(node: String, through: UInt64) async throws(TransportError) {
        try injected()
        fanOutAcknowledged[node] = max(fanOutAcknowledged[node] ?? 0, through)
    }
}
