public import CreditCore
public import CreditData
public import Foundation
public import SyncProtocol

/// The hub's check of each change before it merges it (`Protocol/merge.md` §2): the same
/// catalog rules and messages as the node's provider API, so that a record no node may accept
/// can neither be merged nor spread by a node that accepted it anyway.
///
/// It runs where change sets are prepared (on the preparation threads, not on the writer).
public struct ChangeValidator: Sendable {
    let reference: ReferenceData
    /// The hub's clock reading when the set arrived: the "today" of a date check is the day the
    /// node accepted the change, but never later than a day after this (a node cannot move
    /// "today" forward by writing a future `acceptedAt`).
    let now: Date
    /// Every catalog layer the hub holds, as `id@version`, and the whole catalog's version: a
    /// change naming exactly the hub's catalog (nearly all of them) is checked by one comparison.
    let layers: Set<String>
    let catalogVersion: String
    /// The validator and identifier context of the hub's own day, built once per set rather than
    /// for every change: a change's day is nearly always the day it arrives.
    let day: CivilDate
    let dayValidator: RecordValidator
    /// The providing units the set's node may write records for (`Protocol/merge.md` §1);
    /// `nil` checks none (tools that validate changes outside a merge).
    let area: ProvidingArea?

    public init(reference: ReferenceData, now: Date, area: ProvidingArea? = nil) {
        self.reference = reference
        self.now = now
        self.area = area
        layers = Set(reference.catalog.layers.map { "\($0.id)@\($0.version)" })
        catalogVersion = reference.catalog.version
        day = ChinaTime.date(of: now)
        dayValidator = reference.validator(today: day)
    }

    /// The validator for a change whose date checks use `today`.
    func validator(today: CivilDate) -> RecordValidator {
        today == day ? dayValidator : reference.validator(today: today)
    }

    /// What checking a change found: why the hub may not merge it, or the record it carries as
    /// validated, whose subject keys the merge files it under without reading the payload again.
    public struct Checked: Sendable {
        public var refusal: ChangeRefusal?
        /// The record of a valid change that carries one (not a revocation or a rights change).
        public var record: AcceptedRecord?
    }

    /// What is wrong with `change` (``Checked/refusal`` `nil` when the hub may merge it), and
    /// the record it carries.
    public func check(_ change: Change) -> Checked {
        var record: AcceptedRecord?
        let refusal = check(change, accepted: &record)
        return Checked(refusal: refusal, record: refusal == nil ? record : nil)
    }

    private func check(_ change: Change, accepted: inout AcceptedRecord?) -> ChangeRefusal? {
        func refuse(_ code: String, _ field: String, _ message: String) -> ChangeRefusal {
            ChangeRefusal(change, code: code, field: field, message: "record \(change.key.recordId): \(message)")
        }
        // The layers the change names, when they are not the hub's whole catalog.
        var named: Set<String>?
        if change.catalogVersion != catalogVersion {
            let layers = change.catalogVersion.split(separator: "+").map(String.init)
            if layers.isEmpty || !layers.allSatisfy(self.layers.contains) {
                return refuse("catalog-version", "catalogVersion",
                              "catalog version '\(change.catalogVersion)' names a layer this hub does not hold (it holds \(catalogVersion))")
            }
            named = Set(layers)
        }
        let today = today(of: change)
        let validator = validator(today: today)
        let provider: UnifiedSocialCreditCode
        do {
            provider = try UnifiedSocialCreditCode.parse(change.key.provider, context: validator.identifiers)
        } catch {
            return refuse("invalid-record", "provider", "the providing unit '\(change.key.provider)' is not a valid credit code: \(error.reason)")
        }
        // A record key names the code itself: a lower-case or padded spelling would file a second
        // record under another key, beside the one its home holds, and dodge deduplication.
        guard provider.value == change.key.provider else {
            return refuse("invalid-record", "provider",
                          "the providing unit is written '\(change.key.provider)' rather than as its code \(provider.value)")
        }
        // A credit subject's rights change is filed at whichever node the subject went to; its
        // authority is checked by rights.md. A record change is the providing unit's, through a node of its area.
        if !change.operation.isRights, let area, !area.covers(provider) {
            return refuse("not-in-area", "provider", "the providing unit \(provider.value) is of division \(provider.divisionCode), "
                          + "outside the area of node \(change.node): \(area) (the hub operator widens it with creditsync hub node area)")
        }
        if change.operation.isRights {
            let event: RightsEvent
            do { event = try RightsEvent(change, identifiers: validator.identifiers) } catch {
                return ChangeRefusal(change, code: error.code, field: error.field, message: error.message)
            }
            // A unit answers a check through a node of its area, as it writes its records there:
            // another node must not close that unit's window with a finding of its own.
            if event.kind == .checked, let area, let unit = event.unit,
               let checker = try? UnifiedSocialCreditCode.parse(unit, context: validator.identifiers), !area.covers(checker) {
                return refuse("not-in-area", "payload.unit", "the checking unit \(unit) is of division \(checker.divisionCode), "
                              + "outside the area of node \(change.node): \(area)")
            }
            return nil
        }
        if change.operation == .revoke, change.payload.isEmpty { return nil }
        guard !change.payload.isEmpty else {
            return refuse("invalid-record", "payload", "a \(change.operation.name) must carry the record")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(change.payload) } catch {
            return refuse("invalid-record", "payload", "the payload is not JSON: \(error)")
        }
        let validation = validator.validate(json)
        guard let record = validation.accepted else {
            let first = validation.issues.first
            let all = validation.issues.map(\.description).joined(separator: "; ")
            return refuse("invalid-record", first?.field ?? "payload", all.isEmpty ? "invalid" : all)
        }
        // Checked against the catalog the change names (merge.md §2): an item is defined by one
        // layer, so the hub's definition of it is that layer's, and the layer must be named.
        if let named, let layer = reference.catalog.definingLayer(ofItem: record.item.code), !named.contains(layer) {
            return refuse("catalog-version", "catalogVersion",
                          "item \(record.item.code) is defined by catalog layer \(layer), which catalog version '\(change.catalogVersion)' does not name")
        }
        if record.item.code != change.key.item {
            return refuse("key-mismatch", "item", "the change is filed under item \(change.key.item) but its record is of \(record.item.code)")
        }
        if record.record.recordId != change.key.recordId {
            return refuse("key-mismatch", "recordId", "the change is filed under record id \(change.key.recordId) but its record has \(record.record.recordId)")
        }
        if record.canonicalJSON != change.payload {
            return refuse("not-canonical", "payload", "the payload is not the record's canonical JSON (Protocol/records.md)")
        }
        accepted = record
        return nil
    }

    /// The China date a change's date checks use: the day its node accepted it, but never later
    /// than a day after the hub received it.
    func today(of change: Change) -> CivilDate {
        ChinaTime.date(of: min(Date(timeIntervalSince1970: Double(change.acceptedAt) / 1000), now.addingTimeInterval(86_400)))
    }

    /// The rights document of a change ``check(_:)`` found valid.
    public func rightsEvent(_ change: Change) -> RightsEvent? {
        try? RightsEvent(change, identifiers: reference.identifierContext(today: today(of: change)))
    }

    /// What Article 40's rules need of a record held at the hub: its class and the earliest end
    /// of its display window, from its current version's payload (`nil` class when it does not
    /// validate any more).
    public func rightsFacts(payload: [UInt8], home: String, revoked: Bool, today: CivilDate) -> RightsRecordFacts {
        guard let json = try? JSONValue.parse(payload), let accepted = reference.validator(today: today).validate(json).accepted else {
            return RightsRecordFacts(home: home, revoked: revoked, recordClass: nil, earliestEnd: nil)
        }
        return RightsRecordFacts(home: home, revoked: revoked, recordClass: accepted.classification.recordClass,
                                 earliestEnd: accepted.display.window?.earliestEnd)
    }
}
