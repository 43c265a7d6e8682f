import CreditCore
public import CreditData
public import Foundation
import CreditStorage
import Hummingbird
public import Logging
public import SyncProtocol
public import SyncTransport
import Synchronization

/// The hub's logic, independent of HTTP: verification of change sets, ingest, fan-out with
/// long-polling, the Article 41 windows, and the operators' views.
public final class HubService: Sendable {
    public let id: String
    public let store: any ProvincialStore
    public let key: SigningKey
    public let metrics: HubMetrics
    /// Where the province's catalog and calendar files come from, when this hub distributes them.
    public let distribution: ReferenceDistribution?
    /// Refusals with node and reason, equivocations, fork reports, reference changes.
    public let logger: Logger
    let now: @Sendable () -> Date
    private let referenceData: Mutex<ReferenceData>
    /// The fan-out position each node last acknowledged here, so that a request after it
    /// acknowledges once (a hub restored from a backup starts empty and acknowledges again).
    private let acknowledgedFanOut = Mutex<[String: UInt64]>([:])
    /// This process, in its refusal lists (``refusals(node:after:)``): drawn when it starts.
    let incarnation = String(format: "%016llx", UInt64.random(in: 1...UInt64.max))
    /// Long-polls waiting for the next merge: signalled by every merge that changed the hub log
    /// (each long poll then reads it at its node's slot) and by a draining hub.
    private let merges = ChangeSignal()
    /// The shortest interval between a node's answers at the head of the log (``LongPollPacing``):
    /// it grows by 2 ms per node long-polling, rounded up to 10 ms (230 ms for the 111 nodes of a
    /// whole province), to at most 250 ms.
    public let fanOutInterval: Duration
    private let pacing: LongPollPacing
    private let draining = Mutex(false)
    /// Wakes the requests held for their slot when the hub starts draining.
    private let drained = ChangeSignal()
    /// Where change sets are verified and prepared: below the store's writer in priority, so
    /// that a backlog of sets to prepare never slows the writer (see ``YieldingWorkers``).
    private let preparation = YieldingWorkers(name: "creditsync-prepare")
    /// Signed requests are taken once (`Protocol/hub-api.md`, Authentication).
    private let replays: ReplayGuard
    /// Change sets being verified or merged now: bounded, so that many connections each holding a
    /// 16 MiB envelope cannot queue without limit (429 `busy` beyond; nodes retry).
    private let inFlight = Mutex<(total: Int, byNode: [String: Int])>((0, [:]))
    public let maxInFlightSets: Int
    /// A node's sets in flight at once: its pusher keeps four (sync.md §4), twice that leaves room for retries.
    public static let maxInFlightSetsPerNode = 8
    /// Long-polls waiting per node: a node needs one; more answer at once instead of waiting.
    private let waitingPerNode = Mutex<[String: Int]>([:])
    public static let maxWaitingPerNode = 4
    /// The hub-log entries one fan-out batch considers: 4,000, the most the protocol allows;
    /// tests use fewer to make a short log span several batches. Each batch costs the hub a
    /// read and a signature and the node a transaction, whose commit writes every page it
    /// touched: at 1,000 a node catching up spent a quarter of its time per batch, not per change.
    public let fanOutLimit: Int
    /// Each node's requests as the hub saw them since it started (``NodeHealth``).
    let health = Mutex<[String: NodeHealth]>([:])
    /// The pinned hub head each node last reported that this log contains: checked once.
    let pinnedVerified = Mutex<[String: TreeHead]>([:])
    /// Consistency proofs sent with recent batches, by the sizes they join. Nodes at the head
    /// pinned the same few recent sizes, and the log only grows, so a proof computed for one
    /// node serves the others answered before the next merges (a read of its own each, before).
    private let recentProofs = Mutex<[SIMD2<UInt64>: [Hash32]]>([:])
    static let recentProofsKept = 256
    /// The log's head as known without a read (``HeadHint``).
    private let headHint: HeadHint
    /// How long a node's request body may take to arrive once its header named an active key
    /// (408 `too-slow` beyond; the configuration's `limits.bodySeconds`). A body trickled in a
    /// byte at a time would otherwise hold its connection and its buffer for as long as the
    /// sender likes: the idle timeout sees a request going on.
    public let bodySeconds: Double

    public init(id: String = "360000", store: any ProvincialStore, key: SigningKey, reference: ReferenceData,
                metrics: HubMetrics = HubMetrics(), distribution: ReferenceDistribution? = nil, maxInFlightSets: Int = 32,
                fanOutInterval: Duration = .milliseconds(50), fanOutLimit: Int = 4000, bodySeconds: Double = HubService.defaultBodySeconds,
                logger: Logger = Logger(label: "creditsync.hub"), now: @escaping @Sendable () -> Date = Date.init) throws {
        self.logger = logger
        self.fanOutInterval = fanOutInterval
        pacing = LongPollPacing(minimum: fanOutInterval)
        self.fanOutLimit = min(4000, max(1, fanOutLimit))
        self.maxInFlightSets = maxInFlightSets
        self.bodySeconds = bodySeconds
        self.distribution = distribution
        self.id = id
        self.store = store
        self.key = key
        self.metrics = metrics
        self.now = now
        self.referenceData = Mutex(reference)
        replays = ReplayGuard(startedAt: now())
        headHint = HeadHint(size: (try? store.hubHead().size) ?? 0, batchLimit: self.fanOutLimit, maxBytes: FanOutBatch.byteBudget,
                            largestChange: Change.Limits.encoded)
    }

    public var reference: ReferenceData { referenceData.withLock { $0 } }

    /// Replaces the calendar and catalog (a new year's notice) without a restart; deadlines are
    /// recomputed on the next read.
    public func update(reference: ReferenceData) { referenceData.withLock { $0 = reference } }

    // MARK: - Ingest

    /// Verifies and ingests a change-set envelope posted for `node`.
    /// - Returns: the receipt envelope to answer with.
    /// - Throws: ``HubError`` carrying the status of `Protocol/hub-api.md`.
    public func ingest(node: String, envelope: [UInt8]) async throws -> [UInt8] {
        // Sets in flight are bounded for the hub and for each node: a set waiting for its
        // predecessor holds its place, and one node posting dozens of such sets had kept every
        // other node's pushes out with 429s.
        let admitted = inFlight.withLock { state -> String? in
            guard state.total < self.maxInFlightSets else { return "the hub is verifying \(self.maxInFlightSets) change sets already" }
            guard state.byNode[node, default: 0] < Self.maxInFlightSetsPerNode else {
                return "node \(node) has \(Self.maxInFlightSetsPerNode) change sets in flight already"
            }
            state.total += 1
            state.byNode[node, default: 0] += 1
            return nil
        }
        if let busy = admitted { throw refuse(.tooManyRequests, "busy", "\(busy); retry shortly") }
        defer {
            inFlight.withLock { state in
                state.total -= 1
                state.byNode[node, default: 1] -= 1
                if state.byNode[node] == 0 { state.byNode[node] = nil }
            }
        }
        switch try store.nodeStatus(node) {
        case nil: throw refuse(.forbidden, "unknown-node", "node \(node) is not enrolled at this hub")
        case "active"?: break
        default: throw refuse(.forbidden, "revoked-node", "node \(node) is revoked")
        }
        // The registry is read from the store for every set, so a key revoked with
        // `creditsync hub node revoke` stops verifying at once, without a restart.
        let keys = try store.keyRegistry()
        let start = ContinuousClock.now
        let validator = ChangeValidator(reference: reference, now: now(), area: try store.providingArea(node))
        let opened = try await preparation.run { () -> Result<PreparedSet, WireError> in
            Result { () throws(WireError) in
                let set = try ChangeSet.open(envelope, keys: keys, node: node).changeSet
                return PreparedSet(set, envelope: envelope, validator: validator)
            }
        }
        let prepared: PreparedSet
        switch opened {
        case let .success(p): prepared = p
        case let .failure(error):
            // A set this hub accepted, sent again after its key was revoked (its receipt was
            // lost, then the node's key rotated): the same bytes answer the stored receipt, as
            // any resent set does (hub-api.md), rather than a refusal the node would meet for ever.
            // The set's range is read from its bytes, unverified: the digest then says whether
            // they are the bytes the hub took.
            if case .untrustedKey = error, let first = try? ChangeSet(decodingBody: Envelope(decoding: envelope).payload).first,
               let receipt = try store.storedReceipt(node: node, first: first, envelopeDigest: Hash32.sha256(envelope)) {
                return receipt
            }
            // Another node's set, signed by that node, posted on this node's path: a node
            // configured with the wrong id, named as such rather than as a key it does not hold.
            if case .untrustedKey = error, let other = try? ChangeSet.open(envelope, keys: keys).changeSet.node, other != node {
                throw refuse(.forbidden, "wrong-node", "a change set of node \(other) was posted for \(node)")
            }
            throw refuse(Self.status(of: error), error.code, error.description)
        }
        let set = prepared.set
        let outcome: IngestOutcome
        do { outcome = try await store.ingest(prepared, hub: id, key: key, receivedAt: now()) } catch {
            // The merge may have committed before a later step failed (the subject index's fold):
            // long polls then read the store rather than wait on a hint that missed it.
            headHint.merged(size: nil)
            merges.signal()
            throw error
        }
        switch outcome {
        case let .receipt(receipt, merged, refused):
            metrics.ingested(node: node, changes: set.changes.count, merged: merged, elapsed: ContinuousClock.now - start)
            for refusal in refused { metrics.refusedChange(node: node, code: refusal.code) }
            for refusal in refused.prefix(10) {
                logger.warning("refused a change", metadata: ["node": "\(node)", "sequence": "\(refusal.sequence)", "record": "\(refusal.recordKey)",
                                                               "code": "\(refusal.code)", "field": "\(refusal.field)", "reason": "\(refusal.message)"])
            }
            if refused.count > 10 { logger.warning("refused \(refused.count - 10) more changes of the same set", metadata: ["node": "\(node)"]) }
            if merged > 0 || !refused.isEmpty {
                headHint.merged(size: try? store.hubHead().size)
                merges.signal()
            }
            return receipt
        case let .gap(expected):
            throw refuse(.conflict, "gap", "node \(node) must continue at sequence \(expected), not \(set.first)", expected: expected)
        case .equivocation:
            metrics.equivocation(node: node)
            logger.error("equivocation: a different change set for an acknowledged range, kept as evidence",
                         metadata: ["node": "\(node)", "first": "\(set.first)", "last": "\(set.last)"])
            throw refuse(.conflict, "equivocation",
                         "a different change set for \(set.first)…\(set.last), which this hub already acknowledged; kept as evidence")
        case let .inconsistent(reason):
            throw refuse(.unprocessableContent, "inconsistent", reason)
        case let .untrusted(code, message):
            throw refuse(.forbidden, code, message)
        }
    }

    func refuse(_ status: HTTPResponse.Status, _ code: String, _ message: String, expected: UInt64? = nil) -> HubError {
        metrics.refused(reason: code)
        return HubError(status, code, message, expected: expected)
    }

    static func status(of error: WireError) -> HTTPResponse.Status {
        switch error {
        case .badSignature: .unauthorized
        case .untrustedKey: .forbidden
        case .payloadType: .unsupportedMediaType
        case .inconsistent: .unprocessableContent
        // `oversized` (a declared length or count over its bound) is malformed bytes like every
        // other decoding code; 413 `too-large` is the HTTP body over its limit.
        default: .badRequest
        }
    }

    // MARK: - Fan-out

    /// A signed fan-out batch for `node` as `request` asks, held up to its wait for new entries,
    /// with the consistency proof from the size it pins to the batch's head.
    ///
    /// - Throws: 400 `bad-request` when `applied` is beyond `after`.
    public func fanOut(node: String, _ request: FanOutRequest) async throws -> FanOutAnswer {
        let after = request.after
        guard request.applied <= after else {
            throw refuse(.badRequest, "bad-request", "applied (\(request.applied)) must not be beyond after (\(after))")
        }
        // Asking for what follows `after` says the node applied through it (or through `applied`,
        // when it asks ahead): an acknowledgement (`Protocol/hub-api.md`), which spares a province
        // of nodes a request per batch.
        if request.applied > acknowledgedFanOut.withLock({ $0[node] ?? 0 }) {
            do { try await recordAcknowledgement(node: node, through: request.applied) } catch is AcknowledgementError {}
        }
        let wait = Duration.seconds(request.waitSeconds)
        let generation = merges.generation
        // A node back at the head it reached, with nothing new or a few entries since, is held
        // without a read first (``HeadHint``); others are read first, so that a node catching up
        // is answered at once.
        let hint = headHint.size(node: node, after: after)
        func read() throws -> (entries: [(UInt64, [UInt8])], to: UInt64, head: TreeHead) {
            try store.fanOut(node: node, after: after, limit: fanOutLimit, maxBytes: FanOutBatch.byteBudget)
        }
        var result = hint == nil ? try read() : nil
        // A request held for a merge or a slot counts against the node's held requests: a fifth
        // is answered at once.
        func admitted() -> Bool {
            waitingPerNode.withLock { waiting -> Bool in
                guard waiting[node, default: 0] < Self.maxWaitingPerNode else { return false }
                waiting[node, default: 0] += 1
                return true
            }
        }
        if wait > .zero, !draining.withLock({ $0 }) {
            // Nothing new: held for a merge, then answered at the node's slot (at once when the
            // wait timed out). Entries at the head for a node back before its next slot: held to
            // it, so that what merges until then goes out with them.
            let nothingNew: Bool, atHead: Bool
            if let result {
                nothingNew = result.entries.isEmpty && result.to <= after
                atHead = result.to >= result.head.size
            } else {
                nothingNew = after >= hint!
                atHead = true
            }
            let early = !nothingNew && atHead && pacing.delay(node: node, now: .now) > .zero
            if nothingNew || early, admitted() {
                if nothingNew {
                    await merges.wait(after: generation, timeout: wait)
                    if merges.generation != generation { await waitForSlot(node: node) }
                } else {
                    await waitForSlot(node: node)
                }
                waitingPerNode.withLock { $0[node, default: 1] -= 1 }
                result = nil
            }
        }
        let answer = try result ?? read()
        headHint.answered(node: node, to: answer.to, head: answer.head.size)
        pacing.answered(node: node, at: .now)
        // A node ahead of this log (the hub was restored from an older backup) gets an empty batch
        // at the log's end, whose head tells it to read the fan-out again from the start.
        let start = min(after, answer.head.size), to = min(max(answer.to, start), answer.head.size)
        let signed = try FanOutBatch.signed(by: key, hub: id, node: node, from: start + 1, to: to, hubLog: answer.head,
                                            createdAt: UInt64(HubStore.millis(now())),
                                            entries: answer.entries.map { (position: $0.0, encoded: $0.1) }).encoded
        var consistency: FanOutAnswer.Consistency?
        if let pinned = request.pinned, pinned > 0, pinned < answer.head.size {
            consistency = .init(first: pinned, second: answer.head.size, proof: try recentConsistencyProof(first: pinned, second: answer.head.size))
        }
        try await store.noteServed(node: node, through: to, applied: request.applied)
        return FanOutAnswer(batch: signed, consistency: consistency)
    }

    /// ``ProvincialStore/consistencyProof(first:second:)``, kept for the nodes answered next.
    func recentConsistencyProof(first: UInt64, second: UInt64) throws -> [Hash32] {
        let key = SIMD2(first, second)
        if let kept = recentProofs.withLock({ $0[key] }) { return kept }
        let proof = try store.consistencyProof(first: first, second: second)
        recentProofs.withLock { kept in
            if kept.count >= Self.recentProofsKept { kept.removeAll(keepingCapacity: true) }
            kept[key] = proof
        }
        return proof
    }

    /// A node's own changes after `after`, as a hub-signed batch whose positions are sequence
    /// numbers and whose head is the node log the hub holds (`Protocol/hub-api.md`).
    public func recover(node: String, after: UInt64) throws -> [UInt8] {
        let (changes, head) = try store.nodeChanges(node: node, after: after, limit: 1000, maxBytes: FanOutBatch.byteBudget)
        guard after <= head.size else {
            throw HubError(.badRequest, "beyond-log", "the hub holds \(head.size) changes of node \(node); after must be at most \(head.size)")
        }
        let entries = try changes.map { try FanOutBatch.Entry(position: $0.0, encoded: $0.1) }
        let batch = try FanOutBatch(hub: id, keyId: key.keyId, node: node, from: after + 1, to: entries.last?.position ?? max(after, head.size),
                                    hubLog: head, createdAt: UInt64(HubStore.millis(now())), entries: entries)
        return try batch.signed(with: key).encoded
    }

    /// The hub's signed list of `node`'s changes after sequence `after` that it refused to merge
    /// (``RefusalList``, `Protocol/hub-api.md`): how the node tells its providers.
    ///
    /// Each list names this process (``incarnation``): what a node learned from another may be
    /// the word of the store this one replaced. A hub restored from a backup decides anew the
    /// changes it merges again, and a set the node sent before the restore, delivered late, can
    /// give the restored hub back as much of the node's log as the old one held, so that the
    /// node never sees it hold less (`Protocol/hub-api.md`).
    public func refusals(node: String, after: UInt64) throws -> [UInt8] {
        guard let (position, through, refusals) = try store.refusalList(node: node, after: after, limit: RefusalList.limit) else {
            throw HubError(.notFound, "unknown-node", "no node \(node)")
        }
        return try RefusalList(node: node, after: after, through: through, acknowledged: position.acknowledged, treeRoot: position.treeRoot,
                               at: UInt64(HubStore.millis(now())), incarnation: incarnation, refusals: refusals).signed(with: key)
    }

    /// The hub's signed account of every record it holds about `subject` (Article 38), asked by
    /// `node` for a self-enquiry report at its desk.
    public func subjectAttestation(node: String, subject: String) throws -> [UInt8] {
        // Keys are filed normalized (identifiers.md): an account signed for another spelling
        // would say "no records" about a subject who has some.
        let normalized: String
        do { normalized = try SubjectKey.normalize(subject, context: reference.identifierContext(today: ChinaTime.date(of: now()))) } catch {
            throw HubError(.badRequest, "bad-request", error.description)
        }
        guard normalized == subject else {
            throw HubError(.badRequest, "bad-request", "'\(subject)' is not a normalized subject key; ask for '\(normalized)'")
        }
        let head = try store.hubHead()
        let attestation = SubjectAttestation(hub: id, node: node, subject: subject, hubLogSize: head.size, hubLogRoot: head.root.hex,
                                             at: UInt64(HubStore.millis(now())), records: try store.subjectAttestationEntries(subject))
        return try attestation.signed(with: key)
    }

    /// Records a node's fan-out acknowledgement; one beyond what this hub served the node is
    /// refused (409 `ack-beyond-served`) and changes nothing.
    public func acknowledge(node: String, through: UInt64) async throws {
        do { try await recordAcknowledgement(node: node, through: through) } catch let error as AcknowledgementError {
            throw refuse(.conflict, "ack-beyond-served", error.description)
        }
    }

    /// Stores an acknowledgement (explicit, or implied by a fan-out request) and its latencies.
    private func recordAcknowledgement(node: String, through: UInt64) async throws {
        metrics.replicated(try await store.acknowledgeFanOut(node: node, through: through, at: now()))
        acknowledgedFanOut.withLock { $0[node] = max($0[node] ?? 0, through) }
    }

    /// Sleeps until `node`'s next slot (``LongPollPacing/delay(node:now:)``); a hub that starts
    /// draining answers at once.
    private func waitForSlot(node: String) async {
        let generation = drained.generation
        guard !draining.withLock({ $0 }) else { return }
        let delay = pacing.delay(node: node, now: .now)
        guard delay > .zero else { return }
        await drained.wait(after: generation, timeout: delay)
    }

    /// Ends every long-poll now and lets no new one wait: called when the hub shuts down, so that
    /// in-flight fan-out requests answer at once instead of holding the shutdown for their wait.
    public func drainLongPolls() {
        draining.withLock { $0 = true }
        merges.signal()
        drained.signal()
    }

    /// Verifies a node's signed request (reads and acknowledgements) with its `body`, and takes
    /// it once: a replayed signature is refused. The header comes parsed: the authentication
    /// middleware parses it to refuse an unsigned request before reading its body.
    public func authorize(node: String, method: String, target: String, signature parsed: RequestSignature.Parsed, body: [UInt8] = [],
                          keys known: KeyRegistry? = nil) throws {
        let keys = try known ?? preauthorize(node: node, signature: parsed)
        let now = now()
        // The signature first, checked at the time it claims: a request that does not verify
        // could come from anyone; one that verifies but is stale is the node's (its clock).
        guard RequestSignature.verify(parsed, method: method, target: target, body: body, keys: keys,
                                      now: Date(timeIntervalSince1970: TimeInterval(parsed.timestamp))) else {
            throw refuse(.unauthorized, "unauthorized", "the request signature of node \(node) does not verify")
        }
        // Then the clock, without a second check of the signature (Ed25519 was a fifth of the
        // province's hub, at a verification per fan-out request).
        guard RequestSignature.isFresh(parsed, now: now) else {
            var stale = refuse(.unauthorized, "unauthorized",
                               "the request of node \(node) is stale: signed at \(parsed.timestamp) (Unix seconds), the hub's clock says "
                               + "\(Int64(now.timeIntervalSince1970)), more than \(Int(RequestSignature.maxSkew)) s apart")
            stale.signedByNode = true
            throw stale
        }
        if let why = replays.admit(node: node, nonce: parsed.nonce, timestamp: parsed.timestamp, now: now) {
            var replayed = refuse(.unauthorized, "replayed", why)
            replayed.signedByNode = true
            throw replayed
        }
    }

    /// What is checked of a node's request before its body is read: that it names, as the node
    /// the path names, a key active for that node. A stranger who knows no node's key id is
    /// refused before the hub reads (and holds) up to 16 MiB for them.
    /// - Returns: the key registry read, for ``authorize(node:method:target:signature:body:keys:)``.
    public func preauthorize(node: String, signature parsed: RequestSignature.Parsed) throws -> KeyRegistry {
        guard parsed.node == node else {
            throw refuse(.unauthorized, "unauthorized", "the request is signed by node \(parsed.node), not \(node)")
        }
        let keys = try store.keyRegistry()
        guard keys.activeKey(parsed.keyId, of: node) != nil else {
            throw refuse(.unauthorized, "unauthorized", "key \(parsed.keyId) is not an active key of node \(node)")
        }
        return keys
    }

    /// The default of ``bodySeconds``: a change set of 16 MiB at 2 Mbit/s and then some.
    public static let defaultBodySeconds: Double = 120

    /// The hub's signed answer to a node's position request.
    public func signedPosition(node: String) throws -> [UInt8] {
        guard let position = try store.position(node: node) else { throw HubError(.notFound, "unknown-node", "no node \(node)") }
        return try SignedPosition(node: node, position: position, at: UInt64(HubStore.millis(now()))).signed(with: key)
    }
}

