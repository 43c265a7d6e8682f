import CreditCore
import CreditData
import CreditHub
import CreditNode
import Foundation
import CreditStorage
import SyncProtocol

extension Simulation {
    /// A credit subject's right exercised at `node` (an objection or a restoration application
    /// to any record, from one of a few applicants, so that duplicates and races happen), or a
    /// step on a case by the unit whose turn it is, at its own node: the providing unit at the
    /// record's home, a unit asked to check at its city's node.
    func exerciseRight(at node: SimNode) throws {
        guard !planKeys.isEmpty, let clerk = try node.identity(SyntheticRecords(division: node.id).regulatorCode) else { return }
        let roll = workload.int(0..<10)
        if roll < 4 || rightsCases.isEmpty {
            let key = workload.pick(planKeys), plan = plans[key]!
            let applicant = workload.pick(["赣江商贸有限公司", "洪城律师事务所", "王伟"])
            if roll % 2 == 0 {
                try rightsRequest(node, "object to \(plan.recordId) for \(applicant)", key: key, opens: true) {
                    try $0.fileObjection(provider: plan.unit, item: Self.item, recordId: plan.recordId, applicant: applicant, grounds: "记载有误", by: clerk)
                }
            } else {
                try rightsRequest(node, "apply to restore \(plan.recordId)", key: key, opens: true) {
                    try $0.applyForRestoration(provider: plan.unit, item: Self.item, recordId: plan.recordId, applicant: applicant,
                                               statement: "已整改", by: clerk)
                }
            }
            return
        }
        let caseId = workload.pick(rightsCases.keys.sorted())
        let key = rightsCases[caseId]!, plan = plans[key]!
        let event = workload.pick(caseId.contains("R") ? ["granted", "refused"]
                                  : ["checks", "checked", "paused", "resumed", "upheld", "rejected", "rejected"])
        // The providing unit acts where the hub says the record's home is; a checking unit at its city's node.
        var actor = node, identity: ProviderIdentity?, units: [String]?
        if event == "checked" {
            actor = workload.pick(nodes)
            identity = try actor.identity(SyntheticRecords(division: actor.id).regulatorCode)
        } else {
            guard let home = try hub.store.record(key)?.origin, let homeNode = self.node(home) else { return }
            actor = homeNode
            identity = try actor.identity(plan.unit)
            if event == "checks" {
                units = [SyntheticRecords(division: workload.pick(nodes.filter { $0.id != plan.division }.map(\.id) + [plan.division])).regulatorCode]
            }
        }
        guard let identity else { return }
        let id = caseId.replacingOccurrences(of: "R", with: "")
        try rightsRequest(actor, "\(event) \(id)", key: key, opens: false) {
            try $0.caseEvent(id, event: event, units: units, finding: event == "checked" ? "核查属实" : nil,
                             cause: event == "paused" ? "expert-review" : nil,
                             reason: ["upheld", "rejected", "granted", "refused"].contains(event) ? "依法处理" : "", by: identity)
        }
    }

    /// Sends one rights request and keeps what the node acknowledged (a rights change is an
    /// acknowledged write like any other: nothing may lose it).
    func rightsRequest(_ node: SimNode, _ what: String, key: String, opens: Bool, _ call: (NodeService) throws -> NodeService.RightsReceipt) throws {
        guard let service = node.service else { return }
        do {
            let receipt = try call(service)
            record("rights \(node.id) \(what) -> \(receipt.caseId)#\(receipt.sequence)")
            acknowledged.append((node.id, receipt.sequence, key))
            // Restoration cases are marked so that their steps are the restoration's.
            if opens { rightsCases[what.hasPrefix("apply") ? "R\(receipt.caseId)" : receipt.caseId] = key }
        } catch let refusal as NodeError {
            refusedWrites += 1
            record("rights \(node.id) \(what) refused: \(refusal.code)")
        } catch {
            // The store failed: a crashing disk restarts the node; what it left was not acknowledged.
            refusedWrites += 1
            record("rights \(node.id) \(what) failed: store error")
            if SimulatedDisk.isDead(node.disk) { try crash(node, mid: true) }
        }
    }

    /// A case as the nodes and the hub must agree on it: everything but the instants (a node
    /// keeps its own `acceptedAt`; the hub caps them at when it received the change).
    static func shape(_ c: RightsCase) -> String {
        "\(c.kind.rawValue) \(c.recordKey) \(c.state.rawValue) \(c.applicant ?? "") checks:\(c.checkUnits) answered:\(c.answered.keys.sorted()) "
            + "pauses:\(c.pauses.map { $0.to == nil ? "open" : "closed" }) steps:\(c.steps.map { "\($0.event.rawValue)@\($0.node)#\($0.sequence)" })"
    }

    /// At any moment, not only at the end: a rights change a node lists as refused was refused
    /// by the hub. One wrongly listed would leave the list again once the change came back,
    /// which the end-state check cannot see; a desk would have been shown it. As far as the hub
    /// holds the node's log (``checkRefusedWrites(_:complete:)``: a restored hub's loss is
    /// noticed by the node's next check of its position).
    func checkRefusedRights(_ node: SimNode) throws {
        let listed = try node.store.rightsState().refused
        guard !listed.isEmpty else { return }
        let refusedAtHub = Set(try hub.store.refusals(limit: 1_000_000).filter { $0.node == node.id }.map(\.sequence))
        let holds = try hub.store.position(node: node.id)?.acknowledged ?? 0
        for sequence in listed where sequence <= holds && !refusedAtHub.contains(sequence) {
            violate("rights: node \(node.id) lists its change #\(sequence) as refused, which the hub did not refuse")
        }
    }

    /// At the end: every node holds every case as the hub decided it, has nothing pending, and
    /// knows exactly which of its rights changes the hub refused; every rights window is
    /// reported as the calendar, counted here, says.
    func checkRights() throws {
        let rows = try hub.store.rightsCases(receivedFrom: nil, to: nil)
        let expected = Dictionary(uniqueKeysWithValues: rows.map { ($0.rightsCase.id, Self.shape($0.rightsCase)) })
        let refusals = try hub.store.refusals(limit: 1_000_000)
        for node in nodes {
            let state = try node.store.rightsState()
            let held = Dictionary(uniqueKeysWithValues: state.cases.map { ($0.id, Self.shape($0)) })
            if held != expected {
                let differing = Set(held.keys).union(expected.keys).sorted().filter { held[$0] != expected[$0] }.prefix(2)
                violate("rights diverged: node \(node.id) " + differing.map { "case \($0): node \(held[$0] ?? "none"), hub \(expected[$0] ?? "none")" }
                    .joined(separator: "; "))
            }
            if state.pending > 0 { violate("rights: node \(node.id) still shows \(state.pending) changes as pending after the federation settled") }
            var refusedAtHub: [UInt64] = []
            for r in refusals where r.node == node.id {
                let bytes = try node.store.changes(after: r.sequence - 1, limit: 1, maxBytes: Int.max).first
                if let change = bytes.flatMap({ try? Change(decoding: $0) }), change.operation.isRights { refusedAtHub.append(r.sequence) }
            }
            if refusedAtHub.sorted() != state.refused {
                violate("rights: node \(node.id) believes the hub refused \(state.refused), the hub refused \(refusedAtHub.sorted())")
            }
        }
        for row in rows {
            for w in hub.service.rightsWindows(row, at: clock.now) { checkRightsWindow(w, of: row.rightsCase, settled: true) }
        }
    }

    /// The due day of a rights window, counted here: its working days after the event, plus for
    /// an objection's handling the working days its pauses covered (Article 39 ¶3).
    func expectedDue(_ w: RightsWindowStatus, of c: RightsCase) -> CivilDate {
        func date(_ ms: UInt64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
        switch w.name {
        case .objectionLabel: return due(after: date(c.openedAt), workingDays: 1)
        case .objectionCheck: return due(after: date(c.checksAt ?? c.openedAt), workingDays: 3)
        case .restoration: return due(after: date(c.openedAt), workingDays: 10)
        case .objectionHandling:
            var paused = 0
            for p in c.pauses {
                var day = ChinaTime.date(of: date(p.from)).adding(days: 1)
                let end = ChinaTime.date(of: p.to.map(date) ?? clock.now)
                while day <= end {
                    if reference.calendar.isWorkingDay(day) { paused += 1 }
                    day = day.adding(days: 1)
                }
            }
            return due(after: date(c.openedAt), workingDays: (c.checksAt == nil ? 3 : 7) + paused)
        }
    }

    /// A rights window's state against the calendar counted here: done by the end of its due
    /// day is met, after it missed; open past it breached, open on it at risk, paused while its
    /// case is. `settled`: the federation has synced, so every window that waits for the nodes
    /// must be done.
    func checkRightsWindow(_ w: RightsWindowStatus, of c: RightsCase, settled: Bool) {
        let due = expectedDue(w, of: c)
        let label = "\(w.name.rawValue) of case \(c.id)\(w.unit.map { " (\($0))" } ?? "")"
        if w.window.deadline.due != due {
            violate("window: \(label) due \(w.window.deadline.due), expected \(due)")
            return
        }
        if let completed = w.window.completedAt {
            let expected: LegalWindow.State = completed <= ChinaTime.endOfDay(due) ? .met : .missed
            if w.state != expected { violate("window: \(label) done \(completed) is \(w.state.rawValue), expected \(expected.rawValue)") }
            return
        }
        if settled, [.objectionLabel].contains(w.name) || (w.name == .restoration && c.state == .granted) {
            violate("window: \(label) still waits for a node after the federation settled")
        }
        let today = ChinaTime.date(of: clock.now)
        if c.state == .paused, w.name == .objectionHandling {
            if w.state != .paused { violate("window: \(label) of a paused case is \(w.state.rawValue)") }
        } else if clock.now > ChinaTime.endOfDay(due) {
            if w.state != .breached { violate("window: \(label) was due \(due) but is \(w.state.rawValue) on \(today)") }
        } else if due == today, reference.calendar.isWorkingDay(today), w.state != .atRisk {
            violate("window: \(label) is due today (\(due)) but shown \(w.state.rawValue)")
        }
    }

    /// At 09:00 of a working day, every open rights window (`checkOpenWindows`).
    func checkOpenRightsWindows() throws {
        for row in try hub.store.rightsCases(openOrClosedSince: clock.now) {
            for w in hub.service.rightsWindows(row, at: clock.now) where w.window.completedAt == nil {
                checkRightsWindow(w, of: row.rightsCase, settled: false)
            }
        }
    }
}
