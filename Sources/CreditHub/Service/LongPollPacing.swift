import Synchronization

/// When the hub answers a node's long poll that has entries for it at the head of the log: at the
/// node's own slot.
///
/// Each answer costs the hub a signed batch and an acknowledgement, and the node a verified batch
/// and a transaction. Woken together at every merge, the province's 111 nodes all ran at once:
/// with two cores, every node waited for the whole province's round before its batch was in, and
/// the hub's merges and node A's pushes waited behind that round too. Slots spread the answers:
/// each node's recur every ``interval(now:)`` at a phase set by its id, so at any moment only a
/// few nodes apply a batch, and a merge reaches each node at its next slot, one interval at most.
///
/// A node is answered at its slot, or soon after when it comes back a little late
/// (``slotWidthDivisor``); otherwise it waits for its next slot. Requests of a node catching up,
/// whose batch ends before the hub head, requests that do not wait (`wait=0`), and long polls
/// that time out with no merge are never held here.
final class LongPollPacing: Sendable {
    /// The shortest interval: what one node long-polling alone sees.
    let minimum: Duration
    /// The interval grows by this much per node long-polling (ms), so that the province's answers
    /// together cost about the same share of the machine whatever its size.
    static let perNodeMilliseconds = 2
    /// The longest interval (the protocol's bound on holding an answer after a merge).
    static let maximum: Duration = .milliseconds(250)
    /// Nodes answered within this long count as long-polling: longer than the longest long poll
    /// (60 s), so that nodes of a quiet province, each waiting out its poll, still count.
    static let activeWindow: Duration = .seconds(75)
    /// Intervals are whole multiples of this (ms), so that a node more or fewer does not move
    /// every node's slots.
    static let stepMilliseconds = 10

    private let epoch: ContinuousClock.Instant
    private let answered = Mutex<[String: ContinuousClock.Instant]>([:])

    init(minimum: Duration, epoch: ContinuousClock.Instant = .now) {
        self.minimum = minimum
        self.epoch = epoch
    }

    /// The interval between a node's slots at `now`: ``perNodeMilliseconds`` for each node
    /// answered within ``activeWindow``, rounded up to ``stepMilliseconds``, between ``minimum``
    /// and ``maximum``.
    func interval(now: ContinuousClock.Instant) -> Duration {
        let active = answered.withLock { $0.values.count { now - $0 < Self.activeWindow } }
        let step = Self.stepMilliseconds
        let rounded = (Self.perNodeMilliseconds * active + step - 1) / step * step
        return min(max(minimum, .milliseconds(rounded)), Self.maximum)
    }

    /// How long `node` waits at `now` before it is answered: zero within the first tenth of an
    /// interval after its slot when it was not answered since, else until its next slot. A node
    /// never answered is answered at once.
    ///
    /// A node back later than that (a long apply, a back-off, a restart) waits for its next slot
    /// too. Answering such nodes at once was tried: on a busy machine, where an apply can take
    /// longer than an interval, nodes drifted off their slots into bursts, and the province's
    /// p99 rose from 0.76–0.84 s to 1.0–1.1 s, the runs alternated.
    func delay(node: String, now: ContinuousClock.Instant) -> Duration {
        guard let last = answered.withLock({ $0[node] }) else { return .zero }
        let period = Self.nanoseconds(interval(now: now))
        guard period > 0 else { return .zero }
        let phase = Int64(Self.fraction(node) * Double(period))
        let sinceEpoch = Self.nanoseconds(now - epoch) - phase
        let intoPeriod = ((sinceEpoch % period) + period) % period
        let lastSlot = now - .nanoseconds(intoPeriod)
        return last < lastSlot && intoPeriod <= period / Self.slotWidthDivisor ? .zero : .nanoseconds(period - intoPeriod)
    }

    /// A slot lasts a tenth of the interval: a node back a little late for its slot (it was still
    /// applying) is answered then, but the nodes of a whole province, idle for a while, are not all
    /// answered at the first merge (which had them all apply at once, and the next second of
    /// merges waited behind them).
    static let slotWidthDivisor: Int64 = 10

    /// Notes that `node` was answered at `now`.
    func answered(node: String, at now: ContinuousClock.Instant) {
        answered.withLock { $0[node] = now }
    }

    /// Where in the interval `node`'s slots fall, from 0 up to 1: FNV-1a of its id, so that it
    /// stays put across requests and restarts.
    static func fraction(_ node: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in node.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Double(hash % 1_000_003) / 1_000_003
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
