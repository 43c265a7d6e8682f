/// SplitMix64 (Steele, Lea and Flood): the one pseudo-random generator of the project, for
/// synthetic records and the simulator, where the same seed must give the same numbers on every
/// machine and every run. Not for anything secret.
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
