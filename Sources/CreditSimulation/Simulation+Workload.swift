import CreditCore
import CreditData
import CreditNode
import CreditStorage
import Foundation
import SyncProtocol
import SyncTransport

extension Simulation {
    /// A record of `division`'s synthetic regulator as a provider sends it; `variant` changes
    /// its content (a changed resubmission or a correction).
    func recordJSON(division: String, index: Int, variant: Int) -> JSONValue {
        var generator = SyntheticRecords(division: division)
        // A third decided in May: past their minimum display period, so restorable (Article 40).
        let decided = index % 3 == 1 ? CivilDate(year: 2026, month: 5, day: 15)! : CivilDate(year: 2026, month: 10, day: 15)!
        let record = generator.punishment(index, decidedOn: decided)
        var json = (try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(record))) ?? .null
        if variant > 0, case var .object(o) = json, case var .object(fields)? = o["fields"] {
            fields["CF_NR"] = .string("罚款\(variant * 100)元")
            o["fields"] = .object(fields)
            json = .object(o)
        }
        return json
    }

    /// A new record of `division`'s unit.
    func newPlan(division: String) -> Plan {
        let index = nextIndex[division, default: 0]
        nextIndex[division] = index + 1
        let unit = SyntheticRecords(division: division).regulatorCode
        let plan = Plan(unit: unit, division: division, index: index, recordId: "CF-\(division)-2026-\(index)")
        let key = "\(unit)/\(Self.item)/\(plan.recordId)"
        plans[key] = plan
        planKeys.append(key)
        return plan
    }

    /// A provider write at `node`: a new record, a changed resubmission, a correction or a
    /// revocation of one of its unit's records.
    func write(at node: SimNode) async throws {
        let own = planKeys.filter { plans[$0]!.division == node.id }
        let kind = own.isEmpty ? 0 : workload.int(0..<10)
        if kind < 5 {
            try submit(at: node, plan: newPlan(division: node.id), variant: 0, operation: "create")
            return
        }
        let key = workload.pick(own)
        plans[key]!.variants += 1
        let plan = plans[key]!
        switch kind {
        case 5, 6: try submit(at: node, plan: plan, variant: plan.variants, operation: "create")
        case 7, 8: try submit(at: node, plan: plan, variant: plan.variants, operation: "correct")
        default: try submit(at: node, plan: plan, variant: 0, operation: "revoke")
        }
    }

    /// The same record written at two nodes at once, by a unit that writes through both, in two
    /// different versions: the race the hub must decide and every node must end on.
    func race() async throws {
        guard nodes.count >= 2 else { return }
        let first = workload.int(0..<nodes.count)
        var second = workload.int(0..<nodes.count - 1)
        if second >= first { second += 1 }
        let plan = workload.chance(0.5) || !planKeys.contains(where: { plans[$0]!.division == Self.sharedDivision })
            ? newPlan(division: Self.sharedDivision)
            : plans[workload.pick(planKeys.filter { plans[$0]!.division == Self.sharedDivision })]!
        record("race \(plan.recordId) at \(nodes[first].id) and \(nodes[second].id)")
        // One race in four writes the same content at both (one unit's export loaded twice): the
        // hub keeps one record, and the second node must learn whose it is from the fan-out.
        let variant = workload.int(1..<1000)
        try submit(at: nodes[first], plan: plan, variant: variant, operation: "create")
        try submit(at: nodes[second], plan: plan, variant: workload.chance(0.25) ? variant : workload.int(1..<1000), operation: "create")
    }

    /// Sends one write to `node`'s provider service and keeps what it acknowledged. A write that
    /// fails must leave the node's records as they were.
    func submit(at node: SimNode, plan: Plan, variant: Int, operation: String) throws {
        guard let identity = try node.identity(plan.unit) else { return }
        let service = node.service!
        let json = recordJSON(division: plan.division, index: plan.index, variant: variant)
        let key = "\(plan.unit)/\(Self.item)/\(plan.recordId)"
        // On a full disk, a write that fails must leave the records as they were.
        let before = fullDisks[node.disk] != nil ? try node.store.stateDigest() : nil
        do {
            let result: NodeService.SubmitResult
            switch operation {
            case "correct":
                result = try service.correct(item: Self.item, recordId: plan.recordId, record: json, reason: "复议变更",
                                             decisionDocument: "赣复决〔2026〕\(step)号", effectiveAt: nil, by: identity)
            case "revoke":
                result = try service.revoke(item: Self.item, recordId: plan.recordId, reason: "撤销", decisionDocument: "赣撤〔2026〕\(step)号",
                                            effectiveAt: nil, by: identity)
            default:
                result = try service.submit([json], by: identity)[0]
            }
            record("write \(node.id) \(operation) \(plan.recordId) v\(variant) -> \(result.status.rawValue)\(result.sequence.map { "#\($0)" } ?? "")")
            if result.status == .accepted, let sequence = result.sequence {
                acknowledged.append((node.id, sequence, key))
            } else if result.status == .rejected {
                refusedWrites += 1
            }
        } catch {
            refusedWrites += 1
            record("write \(node.id) \(operation) \(plan.recordId) failed: \(error is NodeError ? "\(error)" : "store error")")
            if error is NodeError { return }
            // The store failed: a crashing disk restarts the node (what the write left is then up to
            // the power loss: it was not acknowledged); a full one must have changed nothing.
            if SimulatedDisk.isDead(node.disk) { try crash(node, mid: true); return }
            if let before, try node.store.stateDigest() != before {
                violate("node \(node.id): the failed \(operation) of \(plan.recordId) on a full disk changed its records")
            }
        }
    }

    /// One push from `node` (its pusher's own step).
    func push(_ node: SimNode) async throws {
        do {
            let pushed = try await pushRound(node)
            record("push \(node.id) -> \(pushed)")
            // As the pusher's run loop does: with nothing to push, it checks now and then (at once
            // when its receiver saw the hub hold less) that the hub still holds what it
            // acknowledged, and feeds a hub restored from an older backup again.
            if pushed == 0, node.store.takeHubPositionDoubt() || network.chance(0.25) {
                try await node.pusher.checkHubPosition()
                record("check hub position \(node.id)")
            }
        } catch {
            record("push \(node.id) failed")
            if SimulatedDisk.isDead(node.disk) { try crash(node, mid: true) }
            return
        }
        // The pusher's own reading of the hub's refusals, now and then.
        guard network.chance(0.3) else { return }
        do {
            let learned = try await node.pusher.learnRefusals()
            record("refusals \(node.id) -> \(learned)")
        } catch {
            record("refusals \(node.id) failed")
            if SimulatedDisk.isDead(node.disk) { try crash(node, mid: true); return }
        }
        try checkRefusedWrites(node)
    }

    /// One pull of `node`'s fan-out (its receiver's own step): one batch acknowledged on its own,
    /// or — as the daemon's receiver runs — up to three, each next one asked for while the one
    /// before is applied and acknowledged by the request after it.
    func pull(_ node: SimNode) async throws {
        do {
            let applied = network.chance(0.5) ? try await node.receiver.pullOnce(wait: 0)
                : try await node.receiver.follow(batches: network.int(1..<4), wait: 0)
            record("pull \(node.id) -> \(applied)")
            try checkRefusedRights(node)
        } catch {
            record("pull \(node.id) failed")
            if SimulatedDisk.isDead(node.disk) { try crash(node, mid: true) }
        }
    }

    // MARK: - The network

    /// Delivers `request` from `node` to the hub through the faults in force.
    func deliver(_ request: SimRequest, from node: String) async throws(TransportError) -> [UInt8] {
        if hubDownSteps > 0 || (partitioned[node] ?? 0) > 0 { throw .unreachable("partitioned") }
        let faulty = !healed
        if faulty, config.faults.contains(.loss), network.chance(0.03) {
            count(.loss)
            record("lose \(request.name) from \(node)")
            throw .unreachable("request lost")
        }
        if faulty, config.faults.contains(.delay), network.chance(0.03) {
            count(.delay)
            record("hold \(request.name) from \(node)")
            held.append((node, request))
            throw .unreachable("timed out")
        }
        var answer = try await perform(request, from: node)
        if faulty, config.faults.contains(.duplication), network.chance(0.03) {
            count(.duplication)
            record("duplicate \(request.name) from \(node)")
            answer = try await perform(request, from: node)
        }
        if faulty, config.faults.contains(.loss), network.chance(0.03) {
            count(.loss)
            record("lose the answer to \(request.name) from \(node)")
            throw .unreachable("answer lost")
        }
        return answer
    }

    /// A round of `node`'s pusher: up to three change sets, sent one at a time — now and then out
    /// of order, as pipelined requests overtake each other on a real network — and answered in
    /// log order. Returns how many changes the hub acknowledged.
    func pushRound(_ node: SimNode) async throws -> Int {
        let round = try await node.pusher.openRound()
        var order = Array(round.sets.indices)
        if order.count > 1, network.chance(0.2) { order.swapAt(0, network.int(1..<order.count)) }
        var answers = [Result<[UInt8], TransportError>](repeating: .failure(.unreachable("not sent")), count: order.count)
        for i in order {
            do { answers[i] = .success(try await deliver(.push(round.sets[i].envelope, pinned: round.pinned), from: node.id)) } catch {
                answers[i] = .failure(error)
            }
        }
        return try await node.pusher.closeRound(round, answers: answers)
    }

    /// Performs a request at the hub; a hub whose disk died under it restarts.
    func perform(_ request: SimRequest, from node: String) async throws(TransportError) -> [UInt8] {
        do {
            return try await request.perform(on: hub.service, from: node)
        } catch {
            if SimulatedDisk.isDead(hub.disk) {
                do { try crashHub(mid: true) } catch { violate("aborted: the hub did not restart: \(error)") }
            }
            throw error
        }
    }

    /// Delivers a request held back earlier (late, after newer ones); its answer goes nowhere.
    func deliverHeld() async {
        guard !held.isEmpty else { return }
        let (node, request) = held.remove(at: network.int(0..<held.count))
        record("deliver held \(request.name) from \(node)")
        _ = try? await perform(request, from: node)
    }
}
