import Synchronization

/// The changes of recently read change sets, decoded from the evidence.
///
/// A change's bytes live only in the signed set the hub keeps as evidence. Every node's
/// fan-out reads the sets just merged, so eleven nodes would decode the same megabyte eleven
/// times; evidence never changes (triggers refuse it), so a decoded set can be kept.
final class EvidenceCache: Sendable {
    private struct Key: Hashable {
        var node: String
        var first: UInt64
    }

    private struct State {
        var sets: [Key: [[UInt8]]] = [:]
        var order: [Key] = []
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 32) {
        self.capacity = capacity
    }

    /// The changes of the set of `node` starting at `first`, decoded by `load` when not held.
    func changes(node: String, first: UInt64, load: () throws -> [[UInt8]]) throws -> [[UInt8]] {
        let key = Key(node: node, first: first)
        if let held = state.withLock({ $0.sets[key] }) { return held }
        let loaded = try load()
        state.withLock { state in
            guard state.sets.updateValue(loaded, forKey: key) == nil else { return }
            state.order.append(key)
            if state.order.count > capacity { state.sets[state.order.removeFirst()] = nil }
        }
        return loaded
    }
}
