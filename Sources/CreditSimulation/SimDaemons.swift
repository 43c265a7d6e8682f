import CreditData
import CreditDeploy
import CreditHub
import CreditNode
import CreditStorage
public import Foundation
import SyncProtocol
import Logging
import Synchronization

/// The simulated time every daemon reads (through its injected clock), plus each node's skew.
public final class SimClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date) { current = Mutex(start) }

    public var now: Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }

    public func set(_ date: Date) { current.withLock { $0 = max($0, date) } }
}

/// A run that cannot go on (a store that does not open after a crash): reported as a violation.
struct SimulationAborted: Error, CustomStringConvertible {
    var description: String
}

/// The hub as the simulator runs it: its real store on a simulated disk and its real service.
final class SimHub: @unchecked Sendable {
    let directory: URL
    /// The simulated disk the store sits on; a restore gives the hub a new one.
    private(set) var disk: Int32
    let key: SigningKey
    let reference: ReferenceData
    let clock: SimClock
    private(set) var store: HubStore!
    private(set) var service: HubService!

    var path: String { directory.appendingPathComponent("hub.sqlite").path }

    init(directory: URL, key: SigningKey, reference: ReferenceData, clock: SimClock) throws {
        self.directory = directory
        self.key = key
        self.reference = reference
        self.clock = clock
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        disk = try SimulatedDisk.add(directory)
        try open()
    }

    func open() throws {
        store = try HubStore(path: path, backgroundCheckpoints: false, pipelinePatience: .zero)
        let clock = clock
        service = try HubService(store: store, key: key, reference: reference, now: { clock.now })
    }

    /// A crash: the disk dies at once, the process's connections go, and power loss undoes
    /// what was not synced but a prefix of `keep` writes. Then the hub starts again.
    func crash(keep: Int) throws -> Int {
        let undone = try stop(keep: keep)
        try reopen()
        return undone
    }

    /// The crash without the start: the disk dies, the store closes, power loss undoes the
    /// unsynced writes but a prefix of `keep`.
    private func stop(keep: Int) throws -> Int {
        SimulatedDisk.kill(disk)
        try? store.close()
        store = nil
        service = nil
        return try SimulatedDisk.powerLoss(disk, keep: keep)
    }

    /// Opens the store again after a crash; a failure to, after a few tries, ends the run with
    /// the reason (a store that cannot be opened after power loss is itself a finding).
    func reopen() throws {
        var failure: (any Error)?
        for attempt in 0..<3 {
            do { return try open() } catch {
                failure = error
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt + 1))
            }
        }
        throw SimulationAborted(description: "the hub did not open after its crash: \(failure.map { "\($0)" } ?? "?")")
    }

    /// The operator's backup (``SimulatedBackup/take(of:to:)``).
    func backup(to file: String) throws { try SimulatedBackup.take(of: path, to: file) }

    /// A restore: the hub stops (a crash, keeping `keep` unsynced writes), the operator restores
    /// `backup` (``SimulatedBackup/restore(_:to:in:replacing:lying:)``), and the hub starts on
    /// the restored store. Returns the writes undone.
    func restore(from backup: String, keep: Int, lying: Bool) throws -> Int {
        let undone = try stop(keep: keep)
        disk = try SimulatedBackup.restore(backup, to: path, in: directory, replacing: disk, lying: lying)
        try reopen()
        return undone
    }
}

/// The operator's backups and restores in the simulator: `creditsync backup` and `creditsync
/// restore` (``StoreBackup``) on a daemon's store.
enum SimulatedBackup {
    /// A backup of the store at `path` while its daemon runs, into `file` (replacing an older
    /// one, with a hub's evidence file), off the simulated disks: the backup is on other media.
    static func take(of path: String, to file: String) throws {
        try? FileManager.default.removeItem(atPath: file)
        try? FileManager.default.removeItem(atPath: EvidenceLog.path(besideDatabase: file))
        _ = try StoreBackup.backup(from: path, to: file)
    }

    /// Restores `backup` over the stopped store at `path`, whose folder `directory` is simulated
    /// disk `disk`: the restore's renames and syncs go to the file system directly (the disk is
    /// set aside during it), and the restored store is a new simulated disk, lying when `lying`,
    /// whose id this returns.
    static func restore(_ backup: String, to path: String, in directory: URL, replacing disk: Int32, lying: Bool) throws -> Int32 {
        SimulatedDisk.remove(disk)
        do { _ = try StoreBackup.restore(backup: backup, to: path) } catch {
            throw SimulationAborted(description: "the backup of \(directory.lastPathComponent) did not restore: \(error)")
        }
        let restored = try SimulatedDisk.add(directory)
        if lying { SimulatedDisk.setLying(restored, true) }
        return restored
    }
}

/// A city node as the simulator runs it: its real store on a simulated disk, its provider
/// service, pusher and receiver, and the credentials of the units that write through it.
final class SimNode: @unchecked Sendable {
    let id: String
    let directory: URL
    /// The simulated disk the store sits on; a restore gives the node a new one.
    private(set) var disk: Int32
    let key: SigningKey
    let reference: ReferenceData
    let clock: SimClock
    /// Seconds this node's clock runs ahead of the hub's (negative: behind).
    var skew: TimeInterval = 0
    /// The city's market regulator, and the provincial unit that writes through several nodes.
    var tokens: [String: String] = [:]
    private(set) var store: NodeStore!
    private(set) var service: NodeService!
    private(set) var pusher: Pusher!
    private(set) var receiver: Receiver!

    var path: String { directory.appendingPathComponent("node.sqlite").path }

    init(id: String, directory: URL, key: SigningKey, reference: ReferenceData, clock: SimClock) throws {
        self.id = id
        self.directory = directory
        self.key = key
        self.reference = reference
        self.clock = clock
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        disk = try SimulatedDisk.add(directory)
    }

    var now: Date { clock.now.addingTimeInterval(skew) }

    func open(transport: SimTransport, hubKeys: KeyRegistry) throws {
        var failure: (any Error)?
        for attempt in 0..<3 {
            do {
                store = try NodeStore(path: path, backgroundCheckpoints: false)
                failure = nil
                break
            } catch {
                failure = error
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt + 1))
            }
        }
        if let failure { throw SimulationAborted(description: "node \(id) did not open after its crash: \(failure)") }
        let now: @Sendable () -> Date = { [unowned self] in clock.now.addingTimeInterval(skew) }
        let reference = reference
        service = NodeService(node: id, store: store, reference: reference, now: now)
        // The daemons' logs would drown the run's own report: the trace says what happened.
        var logger = Logger(label: "creditsync.simulate.\(id)")
        logger.logLevel = .critical
        pusher = Pusher(node: id, store: store, transport: transport, key: key, hub: "360000", hubKeys: hubKeys,
                        configuration: .init(maxChanges: 50, window: 3), reference: { reference }, now: now, logger: logger)
        // Its network is one sequence of events: no batch is asked for while another is written.
        receiver = Receiver(node: id, store: store, transport: transport, hub: "360000", hubKeys: hubKeys, reference: { reference },
                            now: now, logger: logger, lookahead: 0)
    }

    /// A crash, as ``SimHub/crash(keep:)``; the caller opens the node again.
    func crash(keep: Int) throws -> Int {
        SimulatedDisk.kill(disk)
        try? store.close()
        store = nil
        service = nil
        pusher = nil
        receiver = nil
        return try SimulatedDisk.powerLoss(disk, keep: keep)
    }

    /// The operator's backup (``SimulatedBackup/take(of:to:)``).
    func backup(to file: String) throws { try SimulatedBackup.take(of: path, to: file) }

    /// A restore: the node stops (a crash, keeping `keep` unsynced writes) and the operator
    /// restores `backup`, as ``SimHub/restore(from:keep:lying:)``; the caller opens the node
    /// again. Returns the writes undone.
    func restore(from backup: String, keep: Int, lying: Bool) throws -> Int {
        let undone = try crash(keep: keep)
        disk = try SimulatedBackup.restore(backup, to: path, in: directory, replacing: disk, lying: lying)
        return undone
    }

    func identity(_ unit: String) throws -> ProviderIdentity? {
        guard let token = tokens[unit] else { return nil }
        return try store.authenticate(token: token)
    }
}
