import CreditCore
public import CreditData
public import Foundation
public import Logging
public import ServiceLifecycle
public import SyncProtocol
public import SyncTransport

/// Pulls the hub's signed fan-out batches by long-poll and applies them (a Service).
///
/// Each batch is verified against the pinned hub key and applied in one transaction with the
/// new position, so a crash between apply and acknowledgement only makes the hub send the batch
/// again, which then changes nothing.
public struct Receiver: Service {
    let node: String
    let store: NodeStore
    let transport: any HubTransport
    let hub: String
    let hubKeys: KeyRegistry
    let reference: @Sendable () -> ReferenceData
    let waitSeconds: Int
    let backoff: Backoff
    let now: @Sendable () -> Date
    let logger: Logger

    public init(node: String, store: NodeStore, transport: any HubTransport, hub: String, hubKeys: KeyRegistry,
                reference: @escaping @Sendable () -> ReferenceData, waitSeconds: Int = 25, backoff: Backoff = Backoff(),
                now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "creditsync.receiver")) {
        self.node = node
        self.store = store
        self.transport = transport
        self.hub = hub
        self.hubKeys = hubKeys
        self.reference = reference
        self.waitSeconds = waitSeconds
        self.backoff = backoff
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        await runRetrying("fan-out", backoff: backoff, logger: logger) {
            try await follow(wait: waitSeconds)
        }
    }

    /// Pulls and applies up to `limit` batches, and returns how many changes were new to this node.
    ///
    /// While a batch the hub has more after is applied, the next is already asked for: the
    /// request names the position applied as what it acknowledges, and the size of the head
    /// about to be pinned for its consistency proof. A node catching up then spends the round
    /// trip and the hub's work applying. Every request but the first acknowledges what the one
    /// before it applied, so the loop sends no acknowledgement of its own.
    @discardableResult
    public func follow(batches limit: Int = .max, wait: Int) async throws -> Int {
        var applied = 0
        var fetched = try await fetch(FanOutRequest(after: try store.fanOutPosition(), pinned: try store.pinnedHubHead()?.size,
                                                    waitSeconds: wait))
        for done in 1...max(1, limit) {
            let batch = fetched.batch, after = fetched.request.after
            guard done < limit, batch.to > after, batch.to < batch.hubLog.size else {
                applied += try await apply(fetched, acknowledge: false)
                if done == limit { break }
                fetched = try await fetch(FanOutRequest(after: try store.fanOutPosition(), pinned: try store.pinnedHubHead()?.size,
                                                        waitSeconds: wait))
                continue
            }
            async let next = fetch(FanOutRequest(after: batch.to, applied: after, pinned: batch.hubLog.size, waitSeconds: wait))
            applied += try await apply(fetched, acknowledge: false)
            let ahead = try await next
            // A batch that reset the position (a hub history conflict) makes the one asked ahead moot.
            let position = try store.fanOutPosition()
            fetched = ahead.request.after == position ? ahead
                : try await fetch(FanOutRequest(after: position, pinned: try store.pinnedHubHead()?.size, waitSeconds: wait))
        }
        return applied
    }

    /// Pulls and applies one batch. Returns the number of changes that were new to this node.
    /// - Parameter acknowledge: acknowledge the batch on a request of its own; without, the
    ///   next pull (which names the position applied through) acknowledges it.
    @discardableResult
    public func pullOnce(wait: Int, acknowledge: Bool = true) async throws -> Int {
        let request = FanOutRequest(after: try store.fanOutPosition(), pinned: try store.pinnedHubHead()?.size, waitSeconds: wait)
        return try await apply(try await fetch(request), acknowledge: acknowledge)
    }

    /// A batch as received, opened and checked to be this node's and to continue its request.
    struct Fetched {
        var request: FanOutRequest
        var batch: FanOutBatch
        var consistency: FanOutAnswer.Consistency?
        /// The node's rights events the hub had receipted before the batch was asked for.
        var receipted: [UInt64]
        /// The entries after the request's position, prepared for the store.
        var writes: [RemoteWrite]
    }

    func fetch(_ request: FanOutRequest) async throws -> Fetched {
        // Read before the batch is asked for, so that its hub head covers their merge.
        let receipted = try store.receiptedPendingRights()
        let answer = try await transport.pull(node: node, request)
        let batch = try FanOutBatch.open(answer.batch, hub: hub, keys: hubKeys)
        guard batch.node == node else { throw WireError.inconsistent("a batch for node \(batch.node) was sent to \(node)") }
        guard batch.from <= request.after + 1 else {
            throw WireError.inconsistent("the batch starts at \(batch.from), after a gap from \(request.after)")
        }
        return Fetched(request: request, batch: batch, consistency: answer.consistency, receipted: receipted,
                       writes: writes(batch, after: request.after))
    }

    /// What the store needs to file the batch's entries after `after`. Prepared where the batch
    /// is received: a batch asked for ahead is prepared on another core while the one before it
    /// is written, and the writer, which catching up keeps busy, only writes.
    func writes(_ batch: FanOutBatch, after: UInt64) -> [RemoteWrite] {
        let data = reference()
        // The node's own changes come back only when the hub re-asserts one of them over a
        // version it refused (Protocol/merge.md §4): they are applied like any other entry.
        var writes: [RemoteWrite] = []
        writes.reserveCapacity(batch.entries.count)
        for entry in batch.entries where entry.position > after {
            let rights = entry.change.operation.isRights
            writes.append(RemoteWrite(position: entry.position, change: entry.change, prepared: Self.prepare(entry.change, data: data),
                                      rights: rights ? try? RightsEvent(entry.change, identifiers: nil) : nil,
                                      leaf: rights ? entry.change.leafHash : nil))
        }
        return writes
    }

    /// Applies a fetched batch whose request continued from the node's position.
    func apply(_ fetched: Fetched, acknowledge: Bool) async throws -> Int {
        let batch = fetched.batch, after = fetched.request.after, receipted = fetched.receipted
        // Every new head must extend the one pinned (Protocol/hub-api.md, Log proofs).
        if let pinned = try store.pinnedHubHead(), batch.hubLog != pinned {
            var proof: [Hash32] = []
            var conflict: String?
            if batch.hubLog.size < pinned.size {
                conflict = "the hub's log holds \(batch.hubLog.size) entries, fewer than the \(pinned.size) it signed before"
            } else {
                // The proof that came with the batch, when it joins these two sizes; else asked for.
                if let sent = fetched.consistency, sent.first == pinned.size, sent.second == batch.hubLog.size {
                    proof = sent.proof
                } else {
                    proof = try await transport.consistencyProof(first: pinned.size, second: batch.hubLog.size)
                }
                if !MerkleProof.verifyConsistency(old: pinned, new: batch.hubLog, proof: proof) {
                    conflict = "no consistency proof joins the pinned hub head \(pinned) to the new head \(batch.hubLog)"
                }
            }
            if let conflict {
                // The hub is the platform of record: its decision stands, and this node reads its
                // fan-out again from the start (changes it holds are recognized and skipped). The
                // two heads are kept as evidence, counted, and alerted on: a rewrite is evident.
                logger.error("hub history conflict: \(conflict); kept as evidence, re-reading the hub's fan-out",
                             metadata: ["pinned": "\(pinned)", "now": "\(batch.hubLog)"])
                try store.recordHubHistoryConflict(pinned: pinned, seen: batch.hubLog, proof: proof, reason: conflict,
                                                   at: Int64(NodeService.millis(now())))
                return 0
            }
        }
        if batch.hubLog.size < after {
            // The hub was restored from an older backup before this node pinned a head.
            logger.error("the hub's log is shorter than this node's fan-out position; re-reading its fan-out",
                         metadata: ["position": "\(after)", "now": "\(batch.hubLog)"])
            try store.resetFanOut()
            return 0
        }
        guard batch.to > after else {
            // Nothing new; acknowledging anyway keeps the hub's view of this node right even when
            // the hub has lost it (restored from a backup).
            try store.applyFanOut([], through: after, hubHead: batch.hubLog, at: NodeService.millis(now()), receipted: receipted)
            try await transport.acknowledge(node: node, through: after)
            return 0
        }
        let applied = try store.applyFanOut(fetched.writes, through: batch.to, hubHead: batch.hubLog, at: NodeService.millis(now()),
                                            receipted: receipted)
        if acknowledge { try await transport.acknowledge(node: node, through: batch.to) }
        return applied
    }

    /// What the store needs to file a fanned-out change: its subject keys and class, read from
    /// the record as the origin node validated it.
    static func prepare(_ change: Change, data: ReferenceData) -> PreparedWrite {
        func write(subjectKey: String = "", subjectName: String = "", otherSubjects: [(key: String, role: String)] = [],
                   recordClass: String = "") -> PreparedWrite {
            PreparedWrite(key: change.key, operation: change.operation, payload: change.payload, subjectKey: subjectKey,
                          subjectName: subjectName, otherSubjects: otherSubjects, recordClass: recordClass, reason: change.reason,
                          decisionDocument: change.decisionDocument, effectiveAt: change.effectiveAt)
        }
        // The payload passed validation where it was written and again at the hub: it is read
        // with the project's own parser, not decoded through Codable, and only the members
        // filing it needs are built.
        guard !change.payload.isEmpty, !change.operation.isRights,
              let json = try? JSONValue.parse(change.payload, keeping: data.catalog.filingProjection),
              let record = CreditRecord(accepted: json) else {
            return write()
        }
        let others = record.acceptedPersons.map { (key: $0.key, role: $0.role.rawValue) }
        var recordClass = ""
        if let item = data.catalog.item(record.item), case let .string(d)? = record.fields[item.decisionDateField], let date = CivilDate(iso: d) {
            recordClass = Classification.classify(record, item: item, decisionDate: date).recordClass.rawValue
        }
        return write(subjectKey: record.subject.key, subjectName: record.subject.name, otherSubjects: others, recordClass: recordClass)
    }
}
