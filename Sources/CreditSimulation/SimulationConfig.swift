public import Foundation

/// The faults a run may inject (`creditsync simulate --faults …`).
public enum FaultKind: String, CaseIterable, Sendable, Codable {
    /// A request or its answer is lost on the way.
    case loss
    /// A request is held back and delivered steps later, after newer ones (delay and reordering).
    case delay
    /// A request is delivered twice.
    case duplication
    /// A node cannot reach the hub for a while (a partition); the hub goes down for everyone.
    case partition
    /// A daemon stops at a point between operations and restarts with power-loss semantics.
    case crash
    /// A daemon's disk fails at one of its next syncs, in the middle of an operation, and the
    /// daemon restarts with what was synced (and a random prefix of what was not).
    case powerLoss = "power-loss"
    /// A node's clock runs ahead or behind the hub's.
    case clockSkew = "clock-skew"
    /// A daemon's disk fills up for a while.
    case diskFull = "disk-full"
    /// An enrolled node sends changes outside its authority, invalid records, equivocating sets,
    /// inflated and replayed acknowledgements, and integers past the protocol's bound.
    case hostile
    /// The hub is restored from the operator's last nightly backup (`creditsync backup`, then
    /// `creditsync restore`): it forgets what it merged since, and the nodes must notice and
    /// feed it again.
    case hubRestore = "hub-restore"
    /// A city node is restored from its last nightly backup: it takes back from the hub what it
    /// had pushed since, and loses only the acknowledged writes it had not pushed (what a restore
    /// from a backup loses; the run stops counting them as acknowledged).
    case nodeRestore = "node-restore"
}

/// One simulated run: everything in it follows from these values, `seed` above all.
public struct SimulationConfig: Sendable {
    public var seed: UInt64
    /// Honest city nodes (at most 11).
    public var nodes: Int
    /// Working days of workload and faults before the faults are healed.
    public var days: Int
    /// Steps per working day.
    public var stepsPerDay: Int
    public var faults: Set<FaultKind>
    /// Where the stores live; a fresh folder (on tmpfs when there is one) when `nil`.
    public var directory: URL?
    /// Stop the faulty phase after this many steps (shrinking a failing run); `nil` runs them all.
    public var stepLimit: Int?
    /// The simulator's self-test: every disk acknowledges syncs without making writes durable,
    /// so the crashes of the run must lose acknowledged writes, and the run must fail.
    public var lyingDisks = false
    /// Print every event of the run as it happens.
    public var printTrace = false

    public init(seed: UInt64, nodes: Int = 4, days: Int = 3, stepsPerDay: Int = 40, faults: Set<FaultKind> = Set(FaultKind.allCases),
                directory: URL? = nil, stepLimit: Int? = nil) {
        self.seed = seed
        self.nodes = nodes
        self.days = days
        self.stepsPerDay = stepsPerDay
        self.faults = faults
        self.directory = directory
        self.stepLimit = stepLimit
    }

    /// The steps of the faulty phase.
    public var steps: Int { min(days * stepsPerDay, stepLimit ?? .max) }
}
