import CreditCore

/// The simulator's source of every choice: ``SplitMix64`` from one seed, split into independent
/// streams by label, so that adding a choice to one part of a run (a new fault kind, say) does
/// not move the choices of the others.
public struct SimRandom: Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(state: seed) }

    /// An independent stream for `label`, derived from this one's seed without advancing it.
    public func stream(_ label: String) -> SimRandom {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a of the label, mixed with the seed
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var r = SimRandom(seed: generator.state ^ h)
        _ = r.next()
        return r
    }

    public mutating func next() -> UInt64 { generator.next() }

    /// A number in `range` (which must not be empty).
    public mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < p
    }

    /// One element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    /// 32 bytes, for a key seed.
    public mutating func bytes32() -> [UInt8] {
        (0..<4).flatMap { _ -> [UInt8] in
            let v = next()
            return (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
        }
    }
}
