import CreditCore
public import CreditData
import CreditStorage
public import Foundation
public import Logging
public import ServiceLifecycle
public import SyncProtocol
public import SyncTransport
import Synchronization

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
    /// Batches a node catching up asks for ahead of the one it writes: received or in flight,
    /// not yet applied. 0 asks for the next only once the one before is received, and never
    /// while a batch is written (a simulation, whose network is not shared between tasks).
    let lookahead: Int

    public init(node: String, store: NodeStore, transport: any HubTransport, hub: String, hubKeys: KeyRegistry,
                reference: @escaping @Sendable () -> ReferenceData, waitSeconds: Int = 25, backoff: Backoff = Backoff(),
                now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "creditsync.receiver"),
                lookahead: Int = 2) {
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
        self.lookahead = max(0, lookahead)
    }

    public func run() async throws {
        await runRetrying("fan-out", backoff: backoff, logger: logger) {
            // A restored store waits for its pusher to take back its own changes (``follow(batches:wait:)``).
            if try store.isRestorePending() {
                try await Task.sleep(for: .seconds(1))
                return
            }
            try await follow(wait: waitSeconds)
        }
    }

    /// Pulls and applies up to `limit` batches, and returns how many changes were new to this node.
    ///
    /// A batch that ends before the hub head it carries says the node is behind: it then catches
    /// up (``catchUp(from:batches:wait:)``). At the head it long-polls; every request but the
    /// first acknowledges what the one before it applied, so the loop sends no acknowledgement
    /// of its own.
    ///
    /// A store restored from a backup applies nothing until its pusher has taken back from the
    /// hub the changes it pushed after the backup (`Protocol/hub-api.md`, `GET …/changes`): each
    /// taken back becomes its record's current state, so a batch applied before it would leave a
    /// change the hub refused as the record's state. Applied after, from the backup's position,
    /// the fan-out brings every such record back to the hub's decision.
    @discardableResult
    public func follow(batches limit: Int = .max, wait: Int) async throws -> Int {
        guard try !store.isRestorePending() else { return 0 }
        var applied = 0, done = 0
        // The state the last apply left, read in its transaction: a node at the head, woken for
        // a few records, then reads nothing before it asks again.
        var known: FanOutState?
        while done < limit {
            let state = try known ?? store.fanOutState()
            known = nil
            let first = try await fetch(FanOutRequest(after: state.applied, pinned: state.pinned?.size,
                                                      waitSeconds: state.rightsPending ? min(wait, Self.rightsPendingWait) : wait),
                                        confirm: state.rightsAwaitingTheHub, pinned: state.pinned)
            if done + 1 < limit, Self.behind(first) {
                let caughtUp = try await catchUp(from: first, batches: limit - done, wait: wait)
                done += caughtUp.batches
                applied += caughtUp.applied
            } else {
                let result = try await apply(first, acknowledge: false)
                applied += result.changed
                known = result.state
                done += 1
            }
        }
        return applied
    }

    /// The longest a pull waits while a rights change of this node is on its way. One the hub
    /// accepts comes back as a hub-log entry, which ends any wait; one it refuses (another desk
    /// filed first) adds nothing to the log, and is known refused only once a batch asked for
    /// after the hub's position showed it held the change is applied through its hub head
    /// (``NodeStore/applyFanOut(_:through:hubHead:at:hubHolds:)``):
    /// a full long poll would leave the desk showing it pending for most of a minute.
    static let rightsPendingWait = 1

    /// Whether the hub has entries after this batch: its log ran past the batch's end.
    static func behind(_ fetched: Fetched) -> Bool {
        fetched.batch.to > fetched.request.after && fetched.batch.to < fetched.batch.hubLog.size
    }

    /// Applies `first` and the batches after it, up to `limit` in all, until one reaches the hub's
    /// head. A child task asks for each next batch as soon as the one before is received, up to
    /// ``lookahead`` ahead of the writer: each request names the position applied as what it
    /// acknowledges and the head size about to be pinned for its proof. The hub's work, the
    /// round trips and the preparing of each batch then run beside the writer, which only writes.
    func catchUp(from first: Fetched, batches limit: Int, wait: Int) async throws -> (batches: Int, applied: Int) {
        guard lookahead > 0 else { return try await catchUpInTurn(from: first, batches: limit, wait: wait) }
        let (ahead, received) = AsyncThrowingStream<Fetched, any Error>.makeStream()
        let taken = TakenCount()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [lookahead] in
                var previous = first, asked = 1
                do {
                    // The first request ahead also waits for the first batch to be applied: that
                    // apply checks the batch's head against the pinned one, and a request sent
                    // before would acknowledge the node's old position on a history that need not
                    // contain it (a hub restored from an older backup), closing windows there.
                    func mustWait() -> Bool { taken.count == 0 || asked - taken.count > lookahead }
                    while asked < limit, Self.behind(previous) {
                        while mustWait(), !Task.isCancelled {
                            let generation = taken.signal.generation
                            if !mustWait() { break }
                            await taken.signal.wait(after: generation, timeout: .seconds(5))
                        }
                        try Task.checkCancellation()
                        let state = try store.fanOutState()
                        previous = try await fetch(FanOutRequest(after: previous.batch.to, applied: state.applied,
                                                                 pinned: previous.batch.hubLog.size, waitSeconds: wait),
                                                   confirm: state.rightsAwaitingTheHub)
                        received.yield(previous)
                        asked += 1
                    }
                    received.finish()
                } catch {
                    received.finish(throwing: error)
                }
            }
            // However the writer leaves, the asking task must not wait for it.
            defer {
                group.cancelAll()
                taken.signal.signal()
            }
            var batches = 1, applied = try await apply(first, acknowledge: false).changed
            taken.take()
            for try await next in ahead {
                taken.take()
                // A batch that reset the position (a hub history conflict) makes those asked ahead moot.
                guard next.request.after == (try store.fanOutPosition()) else { break }
                applied += try await apply(next, acknowledge: false).changed
                batches += 1
            }
            return (batches, applied)
        }
    }

    /// ``catchUp(from:batches:wait:)`` one step at a time: the next batch is asked for before the
    /// one received is written, and received before the writing starts.
    func catchUpInTurn(from first: Fetched, batches limit: Int, wait: Int) async throws -> (batches: Int, applied: Int) {
        var current = first, batches = 0, applied = 0
        while true {
            let state = try store.fanOutState()
            let next = batches + 1 < limit && Self.behind(current)
                ? try await fetch(FanOutRequest(after: current.batch.to, applied: state.applied, pinned: current.batch.hubLog.size,
                                                waitSeconds: wait), confirm: state.rightsAwaitingTheHub)
                : nil
            applied += try await apply(current, acknowledge: false).changed
            batches += 1
            guard let next, next.request.after == (try store.fanOutPosition()) else { return (batches, applied) }
            current = next
        }
    }

    /// How many batches asked ahead the writer has taken, and a signal when it takes one.
    final class TakenCount: Sendable {
        let signal = ChangeSignal()
        private let taken = Mutex(0)
        var count: Int { taken.withLock { $0 } }
        func take() {
            taken.withLock { $0 += 1 }
            signal.signal()
        }
    }

    /// Pulls and applies one batch. Returns the number of changes that were new to this node.
    /// - Parameter acknowledge: acknowledge the batch on a request of its own; without, the
    ///   next pull (which names the position applied through) acknowledges it.
    @discardableResult
    public func pullOnce(wait: Int, acknowledge: Bool = true) async throws -> Int {
        guard try !store.isRestorePending() else { return 0 }
        let state = try store.fanOutState()
        let request = FanOutRequest(after: state.applied, pinned: state.pinned?.size, waitSeconds: wait)
        return try await apply(try await fetch(request, confirm: state.rightsAwaitingTheHub, pinned: state.pinned), acknowledge: acknowledge).changed
    }

    /// A batch as received, opened and checked to be this node's and to continue its request.
    struct Fetched {
        var request: FanOutRequest
        var batch: FanOutBatch
        var consistency: FanOutAnswer.Consistency?
        /// The hub's position for this node's log, read before the batch was asked for while a
        /// rights change of this node was on its way (``hubHolding()``); `nil` when not read.
        var hubHolds: UInt64?
        /// The entries after the request's position, prepared for the store.
        var writes: [RemoteWrite]
        /// The hub head the node pinned, read with the position the request continues from
        /// (`.some(nil)`: none pinned yet); `nil` when not read then (a batch asked ahead), and
        /// read again before the batch is applied. Only this receiver moves the pinned head, so a
        /// node at the head reads it once per pull, not twice.
        var pinned: TreeHead??
    }

    /// - Parameter confirm: a rights change of this node is on its way within what the hub
    ///   acknowledged (``FanOutState/rightsAwaitingTheHub``): the hub's position is read first, so
    ///   that the batch's hub head covers what the hub held then, and the batch can settle it.
    func fetch(_ request: FanOutRequest, confirm: Bool, pinned: TreeHead?? = nil) async throws -> Fetched {
        let hubHolds = confirm ? await hubHolding() : nil
        let answer = try await transport.pull(node: node, request)
        let batch = try FanOutBatch.open(answer.batch, hub: hub, keys: hubKeys)
        guard batch.node == node else { throw WireError.inconsistent("a batch for node \(batch.node) was sent to \(node)") }
        guard batch.from <= request.after + 1 else {
            throw WireError.inconsistent("the batch starts at \(batch.from), after a gap from \(request.after)")
        }
        return Fetched(request: request, batch: batch, consistency: answer.consistency, hubHolds: hubHolds,
                       writes: try writes(batch, after: request.after), pinned: pinned)
    }

    /// How much of this node's log the hub holds, by its signed position, when it holds the log
    /// as this node has it (`nil` otherwise: a hub holding another log settles nothing, and the
    /// pusher reports the divergence). Only the hub's word settles a rights change as refused:
    /// a hub restored from an older backup may have lost one it receipted.
    /// A failed read settles nothing and stops nothing: the batch is asked for all the same.
    /// A hub holding less than this node last knew (restored from an older backup) has the
    /// pusher check its position at once rather than at its next quiet check.
    func hubHolding() async -> UInt64? {
        do {
            let position = try await transport.position(node: node)
            guard try store.logFrontier(matching: position) != nil else { return nil }
            if position.acknowledged < (try store.acknowledgedPosition()) { store.hubPositionInDoubt() }
            return position.acknowledged
        } catch {
            logger.warning("could not read the hub's position; no pending rights change is settled with this batch",
                           metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// What the store needs to file the batch's entries after `after`. Prepared where the batch
    /// is received: a batch asked for ahead is prepared on another core while the one before it
    /// is written, and the writer, which catching up keeps busy, only writes.
    /// - Throws: ``WireError/inconsistent(_:)`` for a rights change this node cannot read. The hub
    ///   merged it, so skipping it would lose a case's step while the position moved past it
    ///   and was acknowledged: the batch is not applied, and the receiver retries (and its lag
    ///   shows) until a node that reads it runs.
    func writes(_ batch: FanOutBatch, after: UInt64) throws -> [RemoteWrite] {
        let data = reference()
        // The node's own changes come back when the hub re-asserts one of them over a version it
        // refused (Protocol/merge.md §4), and every rights change it merged (rights.md §4, what
        // settles a pending one): they are applied like any other entry.
        var writes: [RemoteWrite] = []
        writes.reserveCapacity(batch.entries.count)
        for entry in batch.entries where entry.position > after {
            var event: RightsEvent?
            if entry.change.operation.isRights {
                do { event = try RightsEvent(entry.change, identifiers: nil) } catch {
                    throw WireError.inconsistent("hub log entry \(entry.position) (\(entry.change.node)#\(entry.change.sequence)) is a rights change this node cannot read: \(error)")
                }
            }
            writes.append(RemoteWrite(position: entry.position, change: entry.change, prepared: Self.prepare(entry.change, data: data),
                                      rights: event, leaf: event == nil ? nil : MerkleHash.leaf(entry.encoded)))
        }
        return writes
    }

    /// Applies a fetched batch whose request continued from the node's position.
    /// - Returns: how many changes were new to this node, and the fan-out state the apply left
    ///   (`nil` when the batch was not applied: a history conflict or a shorter hub log).
    func apply(_ fetched: Fetched, acknowledge: Bool) async throws -> (changed: Int, state: FanOutState?) {
        let batch = fetched.batch, after = fetched.request.after, hubHolds = fetched.hubHolds
        // Every new head must extend the one pinned (Protocol/hub-api.md, Log proofs).
        if let pinned = try fetched.pinned ?? store.pinnedHubHead(), batch.hubLog != pinned {
            var proof: [Hash32] = []
            var conflict: String?
            if batch.hubLog.size < pinned.size {
                conflict = "the hub's log holds \(batch.hubLog.size) entries, fewer than the \(pinned.size) it signed before"
            } else {
                // The proof that came with the batch, when it joins these two sizes; else, or when
                // it does not verify, asked for. The header travels outside the batch's signature:
                // one altered on the way must not pass for the hub's history rewritten.
                var verified = false
                if let sent = fetched.consistency, sent.first == pinned.size, sent.second == batch.hubLog.size {
                    proof = sent.proof
                    verified = MerkleProof.verifyConsistency(old: pinned, new: batch.hubLog, proof: proof)
                }
                if !verified {
                    proof = try await transport.consistencyProof(first: pinned.size, second: batch.hubLog.size)
                    verified = MerkleProof.verifyConsistency(old: pinned, new: batch.hubLog, proof: proof)
                }
                if !verified {
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
                                                   at: Int64(NodeService.millis(now())), prepare: prepareOwn)
                return (0, nil)
            }
        }
        if batch.hubLog.size < after {
            // The hub was restored from an older backup before this node pinned a head.
            logger.error("the hub's log is shorter than this node's fan-out position; re-reading its fan-out",
                         metadata: ["position": "\(after)", "now": "\(batch.hubLog)"])
            try store.resetFanOut(at: NodeService.millis(now()), prepare: prepareOwn)
            return (0, nil)
        }
        guard batch.to > after else {
            // Nothing new; acknowledging anyway keeps the hub's view of this node right even when
            // the hub has lost it (restored from a backup).
            let state = try store.applyFanOut([], through: after, hubHead: batch.hubLog, at: NodeService.millis(now()), hubHolds: hubHolds).state
            try await transport.acknowledge(node: node, through: after)
            return (0, state)
        }
        let applied = try store.applyFanOut(fetched.writes, through: batch.to, hubHead: batch.hubLog, at: NodeService.millis(now()),
                                            hubHolds: hubHolds)
        if acknowledge { try await transport.acknowledge(node: node, through: batch.to) }
        return applied
    }

    /// What the store needs to file a fanned-out change: its subject keys and class, read from
    /// the record as the origin node validated it.
    /// Files a change of this node's own log as the replay after a hub history change needs it
    /// (``NodeStore/restoreOwnVersions(_:at:prepare:)``).
    func prepareOwn(_ change: Change) -> PreparedWrite { Self.prepare(change, data: reference()) }

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
