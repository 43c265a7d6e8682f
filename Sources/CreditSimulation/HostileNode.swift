import CreditCore
import CreditData
import CreditHub
import Foundation
import SyncProtocol
import SyncTransport

/// An enrolled node that attacks the hub with validly signed messages: changes to other nodes'
/// records, invalid records, equivocation, inflated and replayed acknowledgements, and integers
/// past the protocol's bound. It talks to the hub directly (no network faults), and keeps its
/// own log honest so that its attacks are judged on what they are, not refused as gaps.
struct HostileNode {
    static let id = "369999"
    let key: SigningKey
    var log: [[UInt8]] = []
    var frontier = MerkleFrontier()
    /// The fan-out position it applied (it acknowledges honestly, or Article 41 windows would
    /// never close).
    var applied: UInt64 = 0

    init(key: SigningKey) { self.key = key }

    func change(_ key: RecordKey, _ operation: ChangeOperation, payload: [UInt8], catalog: String, at: Date,
                createdAt: UInt64? = nil) -> Change {
        Change(node: Self.id, sequence: frontier.size + 1, key: key, operation: operation, credential: "hostile",
               reason: operation.isCorrection ? "伪造" : "", decisionDocument: operation.isCorrection ? "伪〔2026〕1号" : "",
               effectiveAt: UInt64(at.timeIntervalSince1970 * 1000), acceptedAt: UInt64(at.timeIntervalSince1970 * 1000),
               catalogVersion: catalog, payload: payload)
    }
}

extension Simulation {
    /// One hostile message; afterwards the hub's records must be as they were.
    func hostileAct() async throws {
        guard hostile != nil, hub.store != nil else { return }
        try await hostileRefeed()
        guard var node = hostile else { return }
        count(.hostile)
        hostileMessages += 1
        let before = try hub.store.stateDigest()
        let casesBefore = try hub.store.rightsCases(receivedFrom: nil, to: nil).map { Self.shape($0.rightsCase) }
        let catalog = reference.catalog.version
        let kind = chaos.int(0..<8)
        switch kind {
        case 0, 1:
            // A revocation or correction of a record another node keeps.
            guard let key = planKeys.isEmpty ? nil : chaos.pick(planKeys), let plan = plans[key] else { break }
            let recordKey = RecordKey(provider: plan.unit, item: Self.item, recordId: plan.recordId)
            let payload = kind == 0 ? [] : canonical(recordJSON(division: plan.division, index: plan.index, variant: 999_999))
            try await hostilePush(&node, [node.change(recordKey, kind == 0 ? .revoke : .correct, payload: payload, catalog: catalog,
                                                      at: clock.now)], expect: "accepted (refused inside)")
        case 2:
            // A record that fails the catalog (an unknown field), or a valid one filed under its
            // provider spelled otherwise (padded): a second key for one unit's record, which the
            // hub would otherwise take, the unit being in this node's widened area.
            let plan = Plan(unit: SyntheticRecords(division: "360100").regulatorCode, division: "360100", index: 900_000 + step,
                            recordId: "CF-360100-2026-\(900_000 + step)")
            var text = String(decoding: canonical(recordJSON(division: plan.division, index: plan.index, variant: 0)), as: UTF8.self)
            let respelled = step % 2 == 1
            if !respelled { text = text.replacingOccurrences(of: #""fields":{"#, with: #""fields":{"ZZ_FORGED":"1","#) }
            let recordKey = RecordKey(provider: respelled ? " \(plan.unit)" : plan.unit, item: Self.item, recordId: plan.recordId)
            try await hostilePush(&node, [node.change(recordKey, .create, payload: Array(text.utf8), catalog: catalog, at: clock.now)],
                                  expect: "accepted (refused inside)")
        case 3:
            // Equivocation: a different set for a range the hub acknowledged (as the hub holds it:
            // a restored hub the hostile node has not fed again yet holds none of its log).
            guard node.frontier.size >= 1, (try hub.store.position(node: HostileNode.id)?.acknowledged ?? 0) >= 1 else { break }
            var forged = node
            forged.frontier = MerkleFrontier()
            let change = forged.change(RecordKey(provider: "91360000000000000X", item: Self.item, recordId: "EQ-\(step)"), .revoke,
                                       payload: [], catalog: catalog, at: clock.now)
            let set = try ChangeSet(node: HostileNode.id, keyId: node.key.keyId, encodedChanges: [change.encoded], before: MerkleFrontier(),
                                    createdAt: 1)
            await expectRefused(.push(try set.signed(with: node.key).encoded, pinned: nil), code: "equivocation")
        case 4:
            // An acknowledgement of positions never served.
            let served = try hub.store.lags(now: clock.now).first { $0.id == HostileNode.id }?.fanOutApplied ?? 0
            await expectRefused(.acknowledge(through: try hub.store.hubHead().size + UInt64(chaos.int(1..<1_000_000))), code: "ack-beyond-served")
            let after = try hub.store.lags(now: clock.now).first { $0.id == HostileNode.id }?.fanOutApplied ?? 0
            if after != served { violate("hostile: an inflated acknowledgement moved the node's position from \(served) to \(after)") }
        case 5:
            // An integer past 2^63 - 1 inside a properly signed set.
            let change = node.change(RecordKey(provider: "91360000000000000X", item: Self.item, recordId: "BIG-\(step)"), .revoke,
                                     payload: [], catalog: catalog, at: clock.now)
            let set = try ChangeSet(node: HostileNode.id, keyId: node.key.keyId, encodedChanges: [change.encoded], before: node.frontier,
                                    createdAt: UInt64(1) << 63)
            await expectRefused(.push(try set.signed(with: node.key).encoded, pinned: nil), code: "oversized")
        case 6:
            // A providing unit's step on another node's record: grant a restoration, uphold or
            // pause an objection, remove a listing. Only the record's home may: refused, not-home.
            // Aimed at a case the desks opened, with a step its kind has, so that only authority refuses it.
            let opened = rightsCases.sorted { $0.key < $1.key }.map { (caseId: $0.key, record: $0.value) }
            guard let target = opened.isEmpty ? planKeys.first.map({ (caseId: "", record: $0) }) : chaos.pick(opened),
                  let plan = plans[target.record] else { break }
            let caseId = target.caseId.replacingOccurrences(of: "R", with: "")
            let (operation, event) = target.caseId.isEmpty ? (ChangeOperation.listRemoval, RightsEvent(kind: .removed))
                : target.caseId.hasPrefix("R") ? (.restoration, RightsEvent(kind: .granted, caseId: caseId))
                : chaos.pick([(ChangeOperation.objectionOutcome, RightsEvent(kind: .rejected, caseId: caseId)),
                              (.objectionLabel, RightsEvent(kind: .paused, caseId: caseId, cause: "testing"))])
            var change = node.change(RecordKey(provider: plan.unit, item: Self.item, recordId: plan.recordId), operation,
                                     payload: event.payload, catalog: catalog, at: clock.now)
            change.reason = "forged"
            change.decisionDocument = "forged"
            try await hostilePush(&node, [change], expect: "accepted (refused inside)")
        default:
            // A replayed acknowledgement of what it was served: harmless, and taken.
            hostile = node
            try await hostilePull()
            node = hostile!
            do {
                _ = try await perform(.pull(FanOutRequest(after: node.applied)), from: HostileNode.id)
                _ = try await perform(.acknowledge(through: node.applied), from: HostileNode.id)
            } catch {
                // A hub whose disk fails under the request restarts; anything else is a refusal.
                if case .refused = error { violate("hostile: a replayed acknowledgement of served positions was refused: \(error)") }
            }
        }
        hostile = node
        if try hub.store.stateDigest() != before { violate("hostile message \(kind) changed the hub's records") }
        if try hub.store.rightsCases(receivedFrom: nil, to: nil).map({ Self.shape($0.rightsCase) }) != casesBefore {
            violate("hostile message \(kind) changed a credit subject's case")
        }
    }

    /// The record's canonical JSON, as a node would have logged it.
    func canonical(_ json: JSONValue) -> [UInt8] {
        reference.validator(today: ChinaTime.date(of: clock.now)).validate(json).accepted?.canonicalJSON ?? []
    }

    /// Pushes a set of the hostile node's changes continuing its log; the hub takes the set (the
    /// node's log goes on) and must refuse every change in it.
    func hostilePush(_ node: inout HostileNode, _ changes: [Change], expect: String) async throws {
        let set = try ChangeSet(node: HostileNode.id, keyId: node.key.keyId, encodedChanges: changes.map(\.encoded), before: node.frontier,
                                createdAt: UInt64(clock.now.timeIntervalSince1970 * 1000))
        do {
            _ = try await perform(.push(try set.signed(with: node.key).encoded, pinned: nil), from: HostileNode.id)
            node.frontier = try set.extend(node.frontier)
            node.log += changes.map(\.encoded)
            record("hostile push of \(changes.count) -> \(expect)")
        } catch {
            record("hostile push failed: \(error)")
        }
    }

    /// Sends `request` as the hostile node and checks that the hub refuses it with `code`.
    func expectRefused(_ request: SimRequest, code: String) async {
        do {
            _ = try await perform(request, from: HostileNode.id)
            violate("hostile \(request.name) was taken; the hub must refuse it with \(code)")
        } catch {
            if case let .refused(_, got, _) = error, got == code {
                record("hostile \(request.name) refused: \(code)")
            } else if case .server = error {
                record("hostile \(request.name) met a failing hub")
            } else {
                violate("hostile \(request.name) was refused with \(error), not \(code)")
            }
        }
    }

    /// Feeds a hub restored from a backup the hostile node's log past what it holds, as an honest
    /// node does (the hub refuses the attacks in it again): its next attack is then judged on what
    /// it is, not refused as a gap in its log.
    func hostileRefeed() async throws {
        guard let node = hostile, hub.store != nil else { return }
        let held = Int(try hub.store.position(node: HostileNode.id)?.acknowledged ?? 0)
        guard held < node.log.count else { return }
        var before = MerkleFrontier()
        for bytes in node.log.prefix(held) { before.append(leafHash: MerkleHash.leaf(bytes)) }
        let set = try ChangeSet(node: HostileNode.id, keyId: node.key.keyId, encodedChanges: Array(node.log[held...]), before: before,
                                createdAt: UInt64(clock.now.timeIntervalSince1970 * 1000))
        do {
            _ = try await perform(.push(try set.signed(with: node.key).encoded, pinned: nil), from: HostileNode.id)
            record("hostile node fed the restored hub its changes \(held + 1)...\(node.log.count)")
        } catch {
            record("hostile node's feed of the restored hub failed: \(error)")
        }
    }

    /// The hostile node reads its fan-out honestly and acknowledges it.
    func hostilePull() async throws {
        guard var node = hostile else { return }
        for _ in 0..<100 {
            guard let bytes = try? await perform(.pull(FanOutRequest(after: node.applied)), from: HostileNode.id),
                  let batch = try? FanOutBatch.open(SimTransport.answer(bytes).batch, hub: "360000", keys: hubKeys), batch.to > node.applied else { break }
            guard (try? await perform(.acknowledge(through: batch.to), from: HostileNode.id)) != nil else { break }
            node.applied = batch.to
        }
        hostile = node
    }
}
