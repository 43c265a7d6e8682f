import CreditCore
import CreditHub
import CreditNode
import CreditStorage
import Foundation
import SyncProtocol

extension Simulation {
    /// The end-state invariants, once the federation has settled.
    func checkEnd() async throws {
        let hubDigest = try hub.store.stateDigest()
        let hubHead = try hub.store.hubHead()
        record("hub digest \(hubDigest.digest) records \(hubDigest.records) log \(hubHead.size)")
        for node in nodes {
            // Every node holds what the hub decided.
            let digest = try node.store.stateDigest()
            if digest != hubDigest {
                let hubLines = Set(try StateDigest.lines(path: hub.path)), nodeLines = Set(try StateDigest.lines(path: node.path))
                let differing = (nodeLines.symmetricDifference(hubLines)).sorted().prefix(4).map { line in
                    "\(hubLines.contains(line) ? "hub" : "node"): \(line.replacingOccurrences(of: "\t", with: " "))"
                }
                violate("diverged: node \(node.id) digest \(digest.digest.prefix(16)) (\(digest.records) records), hub \(hubDigest.digest.prefix(16)) "
                        + "(\(hubDigest.records)); first differences: \(differing.joined(separator: "; "))")
            }
            // Its log, the hub's copy of it and the receipts agree; it pinned the hub's head.
            let head = try node.store.logHead()
            let position = try hub.store.position(node: node.id)
            if position?.acknowledged != head.size || position?.treeRoot != head.root.hex {
                violate("node \(node.id): its log is \(head.size)/\(head.root.hex.prefix(12)), the hub holds "
                        + "\(position.map { "\($0.acknowledged)/\($0.treeRoot.prefix(12))" } ?? "nothing")")
            }
            if let pinned = try node.store.pinnedHubHead(), pinned != hubHead {
                violate("node \(node.id) pinned hub head \(pinned.size), the hub's is \(hubHead.size)")
            }
            let verified = try NodeVerifier.verify(path: node.path, hubKeys: hubKeys)
            if !verified.ok { violate("node \(node.id): node verify found \(verified.problems.prefix(3))") }
        }
        try checkAcknowledgedWrites()
        try checkOutcomes()
        for node in nodes { try checkRefusedWrites(node, complete: true) }
        try checkHubLog()
        try checkWindows()
        try checkRights()
    }

    /// Nothing acknowledged is lost: every write a node acknowledged is in its log, as it was,
    /// and in the hub's copy of that log.
    func checkAcknowledgedWrites() throws {
        var positions: [String: UInt64] = [:]
        for node in nodes { positions[node.id] = try hub.store.position(node: node.id)?.acknowledged ?? 0 }
        for write in acknowledged {
            guard let node = node(write.node) else { continue }
            let bytes = try node.store.changes(after: write.sequence - 1, limit: 1, maxBytes: Int.max).first
            let change = bytes.flatMap { try? Change(decoding: $0) }
            if change?.sequence != write.sequence || change?.key.description != write.key {
                violate("lost: write \(write.node)#\(write.sequence) of \(write.key) is not in the node's log")
            } else if positions[write.node, default: 0] < write.sequence {
                violate("lost: write \(write.node)#\(write.sequence) of \(write.key) never reached the hub")
            }
        }
    }

    /// Every change the hub acknowledged had one outcome (merge.md §3): logged, a route, or a
    /// refusal row an operator sees. A change acknowledged to its provider and then dropped at the
    /// merge without a trace, or merged twice, breaks it.
    func checkOutcomes() throws {
        for node in nodes {
            let through = try hub.store.position(node: node.id)?.acknowledged ?? 0
            let odd = try hub.store.changesWithoutOneOutcome(node: node.id, through: through)
            for (sequence, outcomes) in odd.prefix(8) {
                violate(outcomes == 0 ? "lost: change \(node.id)#\(sequence) the hub acknowledged has no outcome (not logged, no route, no refusal)"
                        : "merged twice: change \(node.id)#\(sequence) has \(outcomes) outcomes")
            }
        }
    }

    /// A record write a node lists to its provider as refused was refused by the hub, with that
    /// code, at any moment. A hub restored from an older backup no longer holds the changes it
    /// merged after the backup: until the node notices (its pusher's next check of the hub's
    /// position) and takes back what that hub said of them, its list is checked only as far as
    /// the hub holds its log. At the end (`complete`), the node lists every record change of its
    /// own that the hub refused: none is left silent.
    func checkRefusedWrites(_ node: SimNode, complete: Bool = false) throws {
        let listed = try node.store.refusedWrites()
        let refused = Dictionary(try hub.store.refusals(limit: 1_000_000).filter { $0.node == node.id }.map { ($0.sequence, $0.code) },
                                 uniquingKeysWith: { first, _ in first })
        let holds = try hub.store.position(node: node.id)?.acknowledged ?? 0
        for write in listed where write.sequence <= holds && refused[write.sequence] != write.code {
            violate("refusals: node \(node.id) lists its write #\(write.sequence) as refused \(write.code); the hub "
                    + (refused[write.sequence].map { "refused it \($0)" } ?? "did not refuse it"))
        }
        guard complete else { return }
        let own = Set(listed.map(\.sequence))
        for (sequence, code) in refused.sorted(by: { $0.key < $1.key }) where !own.contains(sequence) {
            let bytes = try node.store.changes(after: sequence - 1, limit: 1, maxBytes: .max).first
            guard let change = bytes.flatMap({ try? Change(decoding: $0) }), !change.operation.isRights else { continue }
            violate("refusals: the hub refused node \(node.id)'s write #\(sequence) (\(code)), which the node does not list to its provider")
        }
    }

    /// Each change was applied once: apart from re-assertions, no change of any node appears
    /// twice in the hub log.
    func checkHubLog() throws {
        var seen = Set<String>()
        var after: UInt64 = 0
        while true {
            let page = try hub.store.hubLog(after: after, limit: 5000)
            guard let last = page.last else { break }
            for entry in page where !entry.reassert {
                if !seen.insert("\(entry.node)#\(entry.sequence)").inserted {
                    violate("the hub log holds \(entry.node)#\(entry.sequence) twice (the second at \(entry.position))")
                }
            }
            after = last.position
        }
    }

    /// Every correction's windows, as the calendar (counted here) says: reached the hub and
    /// fixed everywhere, met when done by the end of the due day, missed otherwise.
    func checkWindows() throws {
        for c in try hub.service.correctionStatuses() {
            guard let completed = c.row.completedAt else {
                violate("window: correction at \(c.row.hubPosition) has copies not fixed after the federation settled")
                continue
            }
            let fixDue = due(after: c.row.receivedAt, workingDays: 4)
            let fixExpected: LegalWindow.State = completed <= ChinaTime.endOfDay(fixDue) ? .met : .missed
            if c.fixCopiesState != fixExpected || c.fixCopies.deadline.due != fixDue {
                violate("window: correction at \(c.row.hubPosition) fix-copies due \(c.fixCopies.deadline.due) \(c.fixCopiesState.rawValue), "
                        + "expected due \(fixDue) \(fixExpected.rawValue)")
            }
            let reachDue = due(after: c.row.effectiveAt, workingDays: 3)
            let reachExpected: LegalWindow.State = c.row.receivedAt <= ChinaTime.endOfDay(reachDue) ? .met : .missed
            if c.reachHubState != reachExpected {
                violate("window: correction at \(c.row.hubPosition) reach-hub \(c.reachHubState.rawValue), expected \(reachExpected.rawValue)")
            }
        }
    }
}
