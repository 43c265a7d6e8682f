import Synchronization

/// What the hub knows of its log's head without reading the store: its size as of the last merge,
/// and where each node's last answer ended when that answer reached the head.
///
/// Most long polls of a province come from nodes answered a moment before, back from applying
/// their batch: nothing has merged since, or a few entries. Such a request is held for its slot
/// without a read of the store first (a read only to decide to wait was a read per answer, about a
/// tenth of the province's hub); what the node gets is read when it is answered.
///
/// The size is set before the merge's signal is sent, so a long poll that read the signal's
/// generation first sees the size of every merge signalled before: a hint is never older than the
/// generation a request waits after. (Between a merge's commit and its signal — the subject
/// index's fold, every 50,000 entries, runs there — a node may be held on the size before it,
/// until the signal wakes it; an ingest that fails after its commit forgets every node and signals.)
final class HeadHint: Sendable {
    private let state: Mutex<(size: UInt64, reached: [String: UInt64])>
    /// The most entries since a node's last answer for which its batch surely reaches the head.
    let few: UInt64

    /// - Parameters:
    ///   - size: the log's size when the hub starts.
    ///   - batchLimit: the entries one batch considers; `maxBytes` and `largestChange` bound its
    ///     bytes: a batch of `few` entries ends before the head neither by count nor by bytes.
    init(size: UInt64, batchLimit: Int, maxBytes: Int, largestChange: Int) {
        state = Mutex((size, [:]))
        few = UInt64(max(0, min(batchLimit - 1, maxBytes / max(1, largestChange))))
    }

    /// A merge grew the log to `size`; `nil` when its size could not be read, and then no node is
    /// held on the hint until it has been answered again.
    func merged(size: UInt64?) {
        state.withLock { state in
            if let size { state.size = max(state.size, size) } else { state.reached.removeAll() }
        }
    }

    /// `node` was answered with a batch ending at `to`, read with the log at `head`.
    func answered(node: String, to: UInt64, head: UInt64) {
        state.withLock { state in
            state.size = max(state.size, head)
            state.reached[node] = to >= head ? to : nil
        }
    }

    /// The log's size to hold a request of `node` for the entries after `after` against, without a
    /// read: when its last answer reached the head at `after`, and at most ``few`` entries merged
    /// since. `nil` otherwise: the request is read first.
    func size(node: String, after: UInt64) -> UInt64? {
        state.withLock { state in
            guard state.reached[node] == after, after >= state.size || state.size - after <= few else { return nil }
            return state.size
        }
    }
}
