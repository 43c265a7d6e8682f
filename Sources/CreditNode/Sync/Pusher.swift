public import CreditData
import CreditStorage
public import Foundation
public import Logging
public import ServiceLifecycle
public import SyncProtocol
public import SyncTransport

/// Pushes the node's log to the hub as signed change sets (a Service).
///
/// Each set is signed and persisted in the outbox before it is sent, so a retry after a timeout,
/// a crash or a `kill -9` resends exactly the same bytes: the hub acknowledges it again instead
/// of seeing two different sets for one range. The hub's signed receipt is verified and stored
/// in the same transaction that moves the acknowledged position. Memory stays bounded through a
/// hub outage of any length: the backlog lives in SQLite and each set holds at most
/// ``Configuration/maxChanges`` changes.
public struct Pusher: Service {
    /// How change sets are sized and retried.
    public struct Configuration: Sendable {
        public var maxChanges: Int
        public var maxBytes: Int
        /// How long the pusher, woken by a write after a quiet spell, waits for more writes to
        /// join the set: the most a write waits before it is sent. Under load the pusher is busy
        /// and writes gather on their own; this only groups the writes of one moment.
        public var idleInterval: Duration
        public var backoff: Backoff
        /// Change sets in flight at once. Four keep both of the hub's cores busy verifying while
        /// its writer merges: 1, 2, 4 and 8 were measured with `creditsync-bench e2e` when pipelining landed.
        public var window: Int

        public init(maxChanges: Int = 1000, maxBytes: Int = 4 << 20, idleInterval: Duration = .milliseconds(50),
                    backoff: Backoff = Backoff(), window: Int = 4) {
            self.window = max(1, window)
            self.maxChanges = maxChanges
            self.maxBytes = maxBytes
            self.idleInterval = idleInterval
            self.backoff = backoff
        }
    }

    /// Why a push could not complete.
    public enum Failure: Error, CustomStringConvertible {
        case transport(TransportError)
        case badReceipt(String)
        /// The hub holds a log for this node that this node's log does not match: an operator must look.
        case diverged(String)

        public var description: String {
            switch self {
            case let .transport(e): "\(e)"
            case let .badReceipt(reason): "the hub's receipt is not acceptable: \(reason)"
            case let .diverged(reason): "the hub's copy of this node's log diverges: \(reason)"
            }
        }
    }

    let node: String
    let store: NodeStore
    let transport: any HubTransport
    let key: SigningKey
    let hub: String
    let hubKeys: KeyRegistry
    let configuration: Configuration
    let metrics: NodeMetrics?
    let now: @Sendable () -> Date
    let logger: Logger
    let reference: @Sendable () -> ReferenceData
    let refusalReads = RefusalReads()
    /// When the idle pusher last confirmed the hub's word on what it had learned.
    let refusalChecks = RefusalReads()

    public init(node: String, store: NodeStore, transport: any HubTransport, key: SigningKey, hub: String, hubKeys: KeyRegistry,
                configuration: Configuration = Configuration(), metrics: NodeMetrics? = nil,
                reference: @escaping @Sendable () -> ReferenceData = { try! ReferenceData.load() },
                now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "creditsync.pusher")) {
        self.reference = reference
        self.node = node
        self.store = store
        self.transport = transport
        self.key = key
        self.hub = hub
        self.hubKeys = hubKeys
        self.configuration = configuration
        self.metrics = metrics
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        let idleRounds = IdleCounter()
        await runRetrying("push", backoff: configuration.backoff, logger: logger) {
            // A push in flight is abandoned on SIGTERM: its set stays in the outbox and is resent
            // byte for byte after the restart.
            let generation = store.logAppended.generation
            let pushed = try await pushOnce()
            // Now and then, while some acknowledged change lacks the hub's word on it, ask which
            // the hub refused, so that the providers can read them (GET /v1/refusals). The clock
            // is looked at first: the store is read at most once per interval, not every round.
            if refusalReads.due(now(), every: Self.refusalInterval), try store.refusalsLearnedThrough() != store.acknowledgedPosition() {
                try await learnRefusalsOrLogWhy(confirming: false)
            }
            guard pushed == 0 else { return }
            // Now and then, with nothing to push, check that the hub still holds what it
            // acknowledged: a hub restored from an older backup is re-fed from here. At once
            // when the receiver saw the hub hold less.
            if store.takeHubPositionDoubt() || idleRounds.next() % 4 == 0 { try await checkHubPosition() }
            // Now and then, with nothing to push, ask the hub once even when its word covers all
            // it acknowledged: a hub process started since (a restored one that a late set gave
            // back all this node had pushed) answers as another incarnation, whose word is learned
            // from 0 (hub-api.md).
            if refusalChecks.due(now(), every: Self.refusalCheckInterval) { try await learnRefusalsOrLogWhy(confirming: true) }
            // Nothing to push: sleep until the log grows (an idle node reads nothing), then
            // linger for the idle interval, so the writes of that moment go out in one set.
            await store.logAppended.wait(after: generation, timeout: Self.quietCheck)
            try await Task.sleep(for: configuration.idleInterval)
        }
    }

    /// How long an idle pusher sleeps between checks of the hub's position.
    static let quietCheck: Duration = .seconds(5)

    /// The least time between two reads of the hub's refusals: a writing node would otherwise
    /// add a request at the hub to every change set it pushes.
    static let refusalInterval: TimeInterval = 2

    /// The least time between two confirmations of the hub's refusals by an idle pusher: one
    /// small signed request a minute per node (two a second at the hub for the whole province).
    static let refusalCheckInterval: TimeInterval = 60

    /// ``learnRefusals(confirming:)`` for the pusher's loop: a failure is logged and asked again
    /// later, while a read cut by the stop is the stop (``runRetrying(_:backoff:logger:step:)``).
    func learnRefusalsOrLogWhy(confirming: Bool) async throws {
        do { try await learnRefusals(confirming: confirming) } catch {
            if Task.isCancelled || Task.isShuttingDownGracefully { throw CancellationError() }
            logger.warning("could not \(confirming ? "confirm" : "learn") the hub's refusals; asking again later", metadata: ["error": "\(error)"])
        }
    }

    /// Asks the hub which of this node's acknowledged changes it refused to merge
    /// (`GET /v1/nodes/{node}/refusals`, `Protocol/hub-api.md`), until its word covers what it
    /// acknowledged or stops moving, and files them for
    /// the providers (``NodeStore/learnRefusals(_:)``). Returns how many record writes it newly
    /// lists as refused.
    /// - Parameter confirming: ask once even when the word learned covers all the hub
    ///   acknowledged, to learn of a hub process started since (``RefusalList/incarnation``).
    @discardableResult
    public func learnRefusals(confirming: Bool = false) async throws -> Int {
        var listed = 0
        for round in 0..<1000 {
            let after = try store.refusalsLearnedThrough()
            guard after != (try store.acknowledgedPosition()) || (confirming && round == 0) else { break }
            let bytes: [UInt8]
            do { bytes = try await transport.refusals(node: node, after: after) } catch { throw Failure.transport(error) }
            let list = try RefusalList.open(bytes, hub: hub, keys: hubKeys, node: node, after: after)
            listed += try store.learnRefusals(list)
            // A full list leaves more after it, and a list of another hub process voided what was
            // learned, to be asked again from 0; anything else is all the hub can say for now, and
            // so is a list not filed (the hub's word on another log).
            let learned = try store.refusalsLearnedThrough()
            guard (list.refusals.count == RefusalList.limit && learned > after) || learned < after else { break }
        }
        return listed
    }

    /// One round of pushing: resend what the outbox holds and sign the next sets, up to
    /// ``Configuration/window`` sets in flight at once, then take the hub's receipts in log order.
    /// Returns how many changes the hub acknowledged (0 when there was nothing to push).
    ///
    /// The sets of a window are sent together, as TCP keeps several segments in flight: the hub
    /// verifies them in parallel and merges them in order (`Protocol/hub-api.md`, Pipelining),
    /// instead of idling while each receipt crosses the network. Every set is in the outbox
    /// before it is sent; a set whose answer is lost is resent byte for byte in the next round,
    /// with the sets after it, and the hub answers each with the receipt it stored.
    ///
    /// The window slides: writes that arrive while sets are in flight go out in a set of their
    /// own (after the pusher's linger, ``Configuration/idleInterval``) as soon as the window has
    /// room, without waiting for the receipts before them. A province's writes had otherwise
    /// waited for the hub's last receipt, a tenth of a second or more on a busy machine, before
    /// they left the node.
    @discardableResult
    public func pushOnce() async throws -> Int {
        // Read before the round reads the log: a write after this point is either in the round
        // or wakes the watch below.
        var seen = store.logAppended.generation
        let round = try await openRound()
        guard !round.sets.isEmpty else { return 0 }
        enum Event: Sendable {
            case answer(Int, Result<[UInt8], TransportError>)
            case grew
        }
        return try await withThrowingTaskGroup(of: Event.self) { group in
            // However the round ends (a gap included), the watch below must not hold it.
            defer { group.cancelAll() }
            var sets = round.sets, answers: [Int: Result<[UInt8], TransportError>] = [:]
            var frontier = round.acknowledgedFrontier, signedFrontier = try sets.reduce(frontier) { try $1.set.extend($0) }
            var closed = 0, acknowledged = 0, watching = false
            func send(_ i: Int) {
                let envelope = sets[i].envelope
                group.addTask { .answer(i, await self.send(envelope, pinned: round.pinned)) }
            }
            /// Waits for the log to grow, then lingers so that the writes of that moment share a set.
            func watch() {
                let generation = seen, linger = configuration.idleInterval
                watching = true
                group.addTask {
                    await store.logAppended.wait(after: generation, timeout: Self.quietCheck)
                    try await Task.sleep(for: linger)
                    return .grew
                }
            }
            for i in sets.indices { send(i) }
            while closed < sets.count {
                // New sets follow the round's last only when the round took the whole outbox: an
                // outbox longer than the window (`push.window` lowered across a restart) is sent
                // as it is, in later rounds, before anything new is signed.
                if !watching, round.tookWholeOutbox, sets.count - closed < configuration.window { watch() }
                guard let event = try await group.next() else { break }
                switch event {
                case let .answer(i, answer):
                    answers[i] = answer
                    while closed < sets.count, let answer = answers.removeValue(forKey: closed) {
                        guard let count = try await close(sets[closed], answer: answer, frontier: &frontier) else {
                            return acknowledged
                        }
                        acknowledged += count
                        closed += 1
                    }
                case .grew:
                    watching = false
                    seen = store.logAppended.generation
                    let room = configuration.window - (sets.count - closed)
                    let more = try signNewSets(after: sets[sets.count - 1].set.last, frontier: signedFrontier, count: room)
                    for sent in more {
                        metrics?.pushAttempts.increment()
                        signedFrontier = try sent.set.extend(signedFrontier)
                        sets.append(sent)
                        send(sets.count - 1)
                    }
                }
            }
            return acknowledged
        }
    }

    /// One push of a round, its failure kept as a value.
    func send(_ envelope: [UInt8], pinned: TreeHead?) async -> Result<[UInt8], TransportError> {
        do { return .success(try await transport.push(node: node, envelope: envelope, pinned: pinned)) } catch { return .failure(error) }
    }

    /// The change sets of one round, each signed and in the outbox, in log order.
    public struct Round: Sendable {
        public struct Sent: Sendable {
            public let set: ChangeSet
            public let envelope: [UInt8]
        }

        public let sets: [Sent]
        /// The hub head this node pinned, reported with every push.
        public let pinned: TreeHead?
        let acknowledgedFrontier: MerkleFrontier
        /// Whether the round holds every set of the outbox, so that new sets may follow its last.
        let tookWholeOutbox: Bool
    }

    /// Opens a round: takes back a restored store's pushed changes first, then the window's sets.
    /// ``pushOnce()`` sends them at once; the simulator sends them one at a time, in an order
    /// of its choosing, to replay a seed exactly.
    public func openRound() async throws -> Round {
        if try store.isRestorePending() {
            // Restored from a backup: first take back from the hub what this node had already
            // pushed, so that new writes do not reuse those sequence numbers.
            let position: HubPosition
            do { position = try await transport.position(node: node) } catch { throw Failure.transport(error) }
            try await reconcile(with: position)
            try store.setRestorePending(false)
            logger.notice("caught up with the hub after a restore", metadata: ["acknowledged": "\(position.acknowledged)"])
        }
        let state = try store.pushState()
        let sets = try fillWindow(state)
        for _ in sets { metrics?.pushAttempts.increment() }
        return Round(sets: sets, pinned: sets.isEmpty ? nil : try store.pinnedHubHead(), acknowledgedFrontier: state.acknowledgedFrontier,
                     tookWholeOutbox: sets.count >= state.outbox.count)
    }

    /// Takes the hub's answers to a round's sets (in the round's order), recording receipts in
    /// log order and stopping at the first set not acknowledged: the sets after it stay in the
    /// outbox and are resent as they are. Returns how many changes were acknowledged.
    public func closeRound(_ round: Round, answers: [Result<[UInt8], TransportError>]) async throws -> Int {
        var frontier = round.acknowledgedFrontier
        var acknowledged = 0
        for (sent, answer) in zip(round.sets, answers) {
            guard let count = try await close(sent, answer: answer, frontier: &frontier) else { return acknowledged }
            acknowledged += count
        }
        return acknowledged
    }

    /// Takes the hub's answer to one set, the next in log order after `frontier`: records its
    /// receipt and moves `frontier` past it. Returns the changes it acknowledged, or nil after a
    /// gap (the node then continues where the hub holds its log, and the sets after it wait).
    func close(_ sent: Round.Sent, answer: Result<[UInt8], TransportError>, frontier: inout MerkleFrontier) async throws -> Int? {
        let receiptBytes: [UInt8]
        switch answer {
        case let .success(bytes): receiptBytes = bytes
        case let .failure(.gap(expected)):
            // Lost or overtaken on the way: continue where the hub holds this node's log.
            try await reconcile(expected: expected)
            return nil
        case let .failure(.refused(_, "untrusted-key", message)) where sent.set.keyId != key.keyId:
            // Signed before this node's key was rotated, and that key is revoked at the hub now,
            // which does not hold the set (it would have answered its receipt). Resending those
            // bytes would be refused for ever: the next round signs the same changes again.
            let dropped = try store.dropOutbox(signedByOtherThan: key.keyId)
            logger.warning("the hub no longer trusts the key that signed unsent change sets; signing them again with the current key",
                           metadata: ["keyId": "\(sent.set.keyId)", "sets": "\(dropped)", "hub": "\(message)"])
            return nil
        case let .failure(error):
            metrics?.pushFailures.increment()
            throw Failure.transport(error)
        }
        let receipt: Receipt
        do { receipt = try Receipt.open(receiptBytes, hub: hub, keys: hubKeys) } catch {
            throw Failure.badReceipt("\(error)")
        }
        let set = sent.set
        guard receipt.node == node, receipt.first == set.first, receipt.last == set.last, receipt.tree == set.after,
              receipt.envelopeDigest == Hash32.sha256(sent.envelope) else {
            throw Failure.badReceipt("it does not acknowledge the set \(set.first)…\(set.last) that was sent")
        }
        frontier = try set.extend(frontier)
        try store.recordReceipt(receipt, envelope: receiptBytes, frontier: frontier, at: NodeService.millis(now()))
        logger.debug("pushed", metadata: ["first": "\(set.first)", "last": "\(set.last)"])
        return set.changes.count
    }

    /// The sets of this round: those the outbox holds, then new ones signed after them and saved
    /// in the outbox before anything is sent, up to the window.
    func fillWindow(_ state: PushState) throws -> [Round.Sent] {
        var window: [Round.Sent] = []
        var frontier = state.acknowledgedFrontier
        var after = state.acknowledged
        for saved in state.outbox.prefix(configuration.window) {
            let (set, envelope) = try rebuild(saved, before: frontier)
            frontier = try set.extend(frontier)
            after = set.last
            window.append(Round.Sent(set: set, envelope: envelope))
        }
        guard window.count == state.outbox.count else { return window }
        return window + (try signNewSets(after: after, frontier: frontier, count: configuration.window - window.count))
    }

    /// Up to `count` new sets of the log's changes after `after` (whose frontier is `frontier`),
    /// each signed and saved in the outbox before it is returned.
    func signNewSets(after: UInt64, frontier: MerkleFrontier, count: Int) throws -> [Round.Sent] {
        var sets: [Round.Sent] = [], after = after, frontier = frontier
        while sets.count < count {
            let changes = try store.changes(after: after, limit: configuration.maxChanges, maxBytes: configuration.maxBytes)
            guard !changes.isEmpty else { break }
            let set = try ChangeSet(node: node, keyId: key.keyId, encodedChanges: changes, before: frontier, createdAt: NodeService.millis(now()))
            let envelope = try set.signed(with: key)
            try store.saveOutbox(set, signature: envelope.signatures[0].bytes, at: NodeService.millis(now()))
            frontier = try set.extend(frontier)
            after = set.last
            sets.append(Round.Sent(set: set, envelope: envelope.encoded))
        }
        return sets
    }

    /// An outbox set as it was signed, rebuilt from the log's changes after `frontier`.
    ///
    /// The signature proves the rebuilt body is the one signed: a set that came out otherwise
    /// (a log changed under the store) is not sent, since the hub would refuse it and signing
    /// its range again could equivocate. A set signed by a key since rotated away is checked by
    /// the hub instead.
    func rebuild(_ saved: OutboxSet, before frontier: MerkleFrontier) throws -> (ChangeSet, [UInt8]) {
        let count = Int(saved.last - saved.first + 1)
        let changes = try store.changes(after: saved.first - 1, limit: count, maxBytes: .max)
        guard changes.count == count else {
            throw Failure.diverged("the node's log holds \(changes.count) of the outbox set's changes \(saved.first)…\(saved.last)")
        }
        let set = try ChangeSet(node: node, keyId: saved.keyId, encodedChanges: changes, before: frontier, createdAt: saved.createdAt)
        let envelope = Envelope(payloadType: Envelope.PayloadType.changeSet, payload: set.body,
                                signatures: [Envelope.Signature(keyId: saved.keyId, bytes: saved.signature)])
        guard set.first == saved.first,
              saved.keyId != key.keyId || key.publicKey.verify(signature: saved.signature, for: Envelope.signingInput(type: envelope.payloadType, payload: envelope.payload))
        else {
            throw Failure.diverged("the outbox set \(saved.first)…\(saved.last) rebuilt from the log is not the set this node signed")
        }
        return (set, envelope.encoded)
    }

    /// Compares the hub's position with the acknowledged one; when the hub holds less (it was
    /// restored from an older backup), moves back to where it is so the pusher re-feeds it.
    /// ``run()`` calls it every fourth idle round, and at once when the receiver saw the hub hold
    /// less (``NodeStore/takeHubPositionDoubt()``); the simulator, which drives the pusher by
    /// rounds, calls it likewise.
    public func checkHubPosition() async throws {
        let position: HubPosition
        do { position = try await transport.position(node: node) } catch { throw Failure.transport(error) }
        let state = try store.pushState()
        guard position.acknowledged < state.acknowledged else { return }
        logger.error("the hub holds less of this node's log than it acknowledged; re-feeding it",
                     metadata: ["hub": "\(position.acknowledged)", "acknowledged": "\(state.acknowledged)"])
        try await reconcile(with: position)
    }

    /// The hub's position differs from ours (either side restored from a backup): continue from
    /// what the hub holds, after checking that its copy matches this node's log.
    func reconcile(expected: UInt64) async throws {
        let position: HubPosition
        do { position = try await transport.position(node: node) } catch { throw Failure.transport(error) }
        try await reconcile(with: position)
        logger.notice("resuming from the hub's position", metadata: ["acknowledged": "\(position.acknowledged)", "expected": "\(expected)"])
    }

    func reconcile(with position: HubPosition) async throws {
        var logSize = try store.pushState().logSize
        if position.acknowledged > logSize {
            guard try store.isRestorePending() else {
                throw Failure.diverged("the hub holds \(position.acknowledged) changes of this node but its log has only \(logSize); "
                                       + "if this store was restored from a backup, mark it with `creditsync restore`")
            }
            while logSize < position.acknowledged {
                let bytes: [UInt8]
                do { bytes = try await transport.recover(node: node, after: logSize) } catch { throw Failure.transport(error) }
                let batch = try FanOutBatch.open(bytes, hub: hub, keys: hubKeys)
                let own = batch.entries.filter { $0.change.node == node }
                guard !own.isEmpty else { throw Failure.diverged("the hub sent no changes after \(logSize)") }
                try store.appendRecovered(own.map { ($0.change, $0.encoded, Receiver.prepare($0.change, data: reference())) })
                logSize = try store.pushState().logSize
            }
        }
        // Checked before anything moves: a hub holding another log for this node must not make
        // it drop the sets its outbox keeps as they were signed.
        guard let frontier = try store.logFrontier(matching: position) else {
            let own = try store.logFrontier(through: position.acknowledged).root.hex
            throw Failure.diverged("at size \(position.acknowledged) the hub's root is \(position.treeRoot), this node's \(own)")
        }
        try store.resetPush(to: frontier)
    }
}

/// When the pusher last asked the hub for its refusals.
final class RefusalReads: Sendable {
    private let last = Mutex<Date?>(nil)

    /// Whether `interval` has passed since the last time this answered yes (a clock that went
    /// back makes it due at once); a yes starts the interval again.
    func due(_ now: Date, every interval: TimeInterval) -> Bool {
        last.withLock { last in
            if let previous = last, now >= previous, now.timeIntervalSince(previous) < interval { return false }
            last = now
            return true
        }
    }
}

/// Counts idle rounds across iterations of the pusher's loop.
final class IdleCounter: Sendable {
    private let count = Mutex(0)

    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}

import Synchronization
