import CreditHub
import CreditStorage
import Foundation

extension Simulation {
    /// A fault, or the passing of time, for a roll of 68…99.
    func inject(_ roll: Int) async throws {
        let faults = config.faults
        switch roll {
        case 68..<71 where faults.contains(.delay): await deliverHeld()
        case 71..<74 where faults.contains(.crash):
            count(.crash)
            if chaos.chance(0.25) { try crashHub(mid: false) } else { try crash(chaos.pick(nodes), mid: false) }
        case 74..<77 where faults.contains(.powerLoss):
            // The disk fails at one of its next syncs, in the middle of whatever writes then.
            count(.powerLoss)
            let (disk, name) = chaos.chance(0.3) ? (hub.disk, "hub") : { let n = chaos.pick(nodes); return (n.disk, n.id) }()
            let at = chaos.int(1..<4)
            SimulatedDisk.crash(disk, atSync: at)
            record("arm power loss on \(name) at sync \(at)")
        case 77..<79 where faults.contains(.partition):
            count(.partition)
            if chaos.chance(0.2) {
                hubDownSteps = chaos.int(3..<30)
                record("hub down for \(hubDownSteps) steps")
            } else {
                let node = chaos.pick(nodes)
                // Now and then a node is cut off for working days on end.
                let steps = chaos.chance(0.2) ? config.stepsPerDay * chaos.int(1..<4) : chaos.int(5..<40)
                partitioned[node.id] = steps
                record("partition \(node.id) for \(steps) steps")
            }
        case 79..<81 where faults.contains(.clockSkew):
            count(.clockSkew)
            let node = chaos.pick(nodes)
            node.skew = Double(chaos.int(-7200..<7200))
            record("skew \(node.id) by \(Int(node.skew)) s")
        case 81..<83 where faults.contains(.diskFull):
            count(.diskFull)
            let node = chaos.pick(nodes)
            let budget = Int64(chaos.int(0..<65_536))
            SimulatedDisk.setFull(node.disk, budget: budget)
            fullDisks[node.disk] = chaos.int(3..<20)
            record("fill \(node.id)'s disk (\(budget) bytes left)")
        case 83..<91 where faults.contains(.hostile):
            try await hostileAct()
        case 91 where faults.contains(.hubRestore) && hubBackup != nil:
            try restoreHub()
        case 92 where faults.contains(.nodeRestore) && !nodeBackups.isEmpty:
            try restoreNode(chaos.pick(nodes.filter { nodeBackups[$0.id] != nil }))
        default:
            clock.advance(by: Double(chaos.int(300..<7200)))
        }
    }

    /// Counts down the faults that last some steps.
    func tickFaults() {
        hubDownSteps = max(0, hubDownSteps - 1)
        for (node, left) in partitioned { partitioned[node] = left > 1 ? left - 1 : nil }
        for (disk, left) in fullDisks {
            if left > 1 { fullDisks[disk] = left - 1 } else {
                fullDisks[disk] = nil
                SimulatedDisk.setFull(disk, budget: nil)
            }
        }
    }

    /// Restarts `node` after a crash with power-loss semantics: its disk keeps what was synced
    /// and a random prefix of what was not. `mid`: the disk died under an operation.
    func crash(_ node: SimNode, mid: Bool) throws {
        let pending = SimulatedDisk.pending(node.disk)
        let keep = chaos.int(0..<pending + 1)
        let undone = try node.crash(keep: keep)
        writesUndone += undone
        if mid { crashesMidOperation += 1 }
        try node.open(transport: SimTransport(node: node.id, simulation: self), hubKeys: hubKeys)
        record("crash \(node.id)\(mid ? " mid-operation" : "") kept \(keep) of \(pending) unsynced writes, undid \(undone)")
    }

    /// Restarts the hub likewise.
    func crashHub(mid: Bool) throws {
        let pending = SimulatedDisk.pending(hub.disk)
        let keep = chaos.int(0..<pending + 1)
        let undone = try hub.crash(keep: keep)
        writesUndone += undone
        if mid { crashesMidOperation += 1 }
        record("crash hub\(mid ? " mid-operation" : "") kept \(keep) of \(pending) unsynced writes, undid \(undone)")
    }

    /// The operator's nightly backups, taken each working morning while the daemons run (one
    /// whose disk has died takes none that day): the hub's for `hub-restore`, every node's for
    /// `node-restore`.
    func takeBackups() throws {
        if config.faults.contains(.hubRestore), hub.store != nil, !SimulatedDisk.isDead(hub.disk) {
            let file = directory.appendingPathComponent("hub-backup.sqlite").path
            do {
                try hub.backup(to: file)
                hubBackup = file
                record("back up hub at log size \(try hub.store.hubHead().size)")
            } catch {
                violate("the hub's backup failed: \(error)")
            }
        }
        guard config.faults.contains(.nodeRestore) else { return }
        for node in nodes where node.store != nil && !SimulatedDisk.isDead(node.disk) {
            // Only a node the hub is in step with: its backup then holds the hub's word on what it
            // pushed. A node that has not yet fed a restored hub again would keep, restored, what
            // the hub said before its own restore (README: restore one daemon at a time).
            let holds = try hub.store.position(node: node.id)?.acknowledged ?? 0
            guard holds == (try node.store.pushState().acknowledged), holds >= hubHeldBeforeRestore[node.id] ?? 0 else { continue }
            let file = directory.appendingPathComponent("node-\(node.id)-backup.sqlite").path
            do {
                let size = try node.store.logHead().size
                try node.backup(to: file)
                nodeBackups[node.id] = (file, size)
            } catch {
                violate("node \(node.id)'s backup failed: \(error)")
            }
        }
        record("back up \(nodeBackups.count) nodes")
    }

    /// A node restored from its last backup. It takes back from the hub what it had pushed
    /// since, before it takes a write; the acknowledged writes it had neither in the backup nor
    /// at the hub are lost with the restore, as any restore from a backup loses them, and are no
    /// longer counted. Its requests still on their way die with it (the old process is gone).
    func restoreNode(_ node: SimNode) throws {
        guard let backup = nodeBackups[node.id] else { return }
        let holds = try hub.store.position(node: node.id)?.acknowledged ?? 0
        // Only once the hub holds at least what it held of the node's log before any restore of
        // the hub. Restored before it is fed again, the node would lose the changes the hub lost
        // too, and the copies other nodes took from the hub's old log would stay (their replay
        // adds and changes records, never removes one). The operator restores one daemon at a
        // time and lets the federation catch up in between (README); restoreHub() waits likewise
        // for a restored node.
        if let before = hubHeldBeforeRestore[node.id], holds < before {
            record("no restore of \(node.id): the restored hub holds \(holds) of its log, it held \(before)")
            return
        }
        count(.nodeRestore)
        let kept = max(holds, backup.logSize)
        let pending = SimulatedDisk.pending(node.disk)
        fullDisks[node.disk] = nil
        writesUndone += try node.restore(from: backup.file, keep: chaos.int(0..<pending + 1), lying: config.lyingDisks)
        held.removeAll { $0.node == node.id }
        let lost = acknowledged.filter { $0.node == node.id && $0.sequence > kept }.count
        acknowledged.removeAll { $0.node == node.id && $0.sequence > kept }
        writesLostToRestores += lost
        try node.open(transport: SimTransport(node: node.id, simulation: self), hubKeys: hubKeys)
        record("restore \(node.id) from its backup (log \(backup.logSize), the hub holds \(holds)): \(lost) unpushed writes lost")
    }

    /// The hub restored from the last backup: it forgets everything it merged since. Every node
    /// must notice (its log is ahead of the hub's copy, the hub's log no longer extends the head
    /// it pinned) and feed the hub again, so that nothing acknowledged is lost and every node
    /// ends on the restored hub's decisions.
    func restoreHub() throws {
        guard let backup = hubBackup else { return }
        // Not while a restored node has yet to take back its changes from the hub: they would be
        // nowhere (restoreNode(_:) says why the operator restores one daemon at a time).
        if let waiting = try nodes.first(where: { try $0.store.isRestorePending() }) {
            record("no restore of the hub: node \(waiting.id) is still taking back its changes from it")
            return
        }
        count(.hubRestore)
        for node in nodes {
            let held = try hub.store.position(node: node.id)?.acknowledged ?? 0
            hubHeldBeforeRestore[node.id] = max(hubHeldBeforeRestore[node.id] ?? 0, held)
        }
        let pending = SimulatedDisk.pending(hub.disk)
        let keep = chaos.int(0..<pending + 1)
        let before = try hub.store?.hubHead().size
        writesUndone += try hub.restore(from: backup, keep: keep, lying: config.lyingDisks)
        // The hostile node reads the restored hub's fan-out from the start, as a node does after
        // a hub history conflict; it feeds its log again before its next attack.
        hostile?.applied = 0
        // The nodes' backups were taken of their state with the hub as it was: not used after.
        nodeBackups = [:]
        let after = try hub.store.hubHead().size
        hubEntriesForgotten += Int((before ?? after) - min(before ?? after, after))
        record("restore hub from its backup: log \(before.map(String.init) ?? "?") -> \(after)")
    }

    /// Ends every fault: links back, disks with room and no pending crash, held requests
    /// delivered (late, in random order), clocks back in line.
    func heal() async throws {
        record("heal")
        hubDownSteps = 0
        partitioned = [:]
        for disk in [hub.disk] + nodes.map(\.disk) {
            SimulatedDisk.setFull(disk, budget: nil)
            SimulatedDisk.crash(disk, atSync: 0)
        }
        fullDisks = [:]
        while !held.isEmpty { await deliverHeld() }
        if SimulatedDisk.isDead(hub.disk) { try crashHub(mid: true) }
        for node in nodes where SimulatedDisk.isDead(node.disk) { try crash(node, mid: true) }
        healed = true
    }

    /// Syncs every node until nothing moves: everything pushed, every fan-out applied to the
    /// hub log's end. A run that does not settle within its rounds is a liveness violation.
    func settle() async throws {
        for round in 0..<60 {
            for node in nodes {
                for _ in 0..<200 { guard (try? await pushRound(node)) ?? 0 > 0 else { break } }
                // The pusher's idle check of the hub's position (a restored hub is fed again).
                if (try? await node.pusher.checkHubPosition()) != nil {
                    for _ in 0..<200 { guard (try? await pushRound(node)) ?? 0 > 0 else { break } }
                }
                for _ in 0..<200 { guard (try? await node.receiver.pullOnce(wait: 0)) ?? 0 > 0 else { break } }
                _ = try? await node.receiver.pullOnce(wait: 0)
                _ = try? await node.pusher.learnRefusals(confirming: true)
            }
            try await hostilePull()
            if try settled() {
                record("settled after \(round + 1) rounds")
                return
            }
            clock.advance(by: 60)
        }
        violate("liveness: the federation did not settle after the faults were healed")
    }

    func settled() throws -> Bool {
        let head = try hub.store.hubHead().size
        for node in nodes {
            let state = try node.store.pushState()
            guard state.outbox.isEmpty, state.acknowledged == state.logSize, try node.store.fanOutPosition() == head,
                  try hub.store.position(node: node.id)?.acknowledged ?? 0 == state.logSize, try !node.store.isRestorePending(),
                  try node.store.refusalsLearnedThrough() == state.acknowledged else { return false }
        }
        return true
    }
}
