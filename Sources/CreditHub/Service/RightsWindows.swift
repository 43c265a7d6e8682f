public import CreditCore
public import Foundation
public import SyncProtocol

/// One window of a credit subject's case (`Protocol/rights.md` §5), beside Article 41's.
public struct RightsWindowStatus: Sendable, Codable, Equatable {
    public enum Name: String, Sendable, Codable, CaseIterable {
        /// Article 39: the objection label is on the record at every node within 1 working day.
        case objectionLabel = "objection-label"
        /// Article 39: the objection is handled within 3 working days, 7 when other units check.
        case objectionHandling = "objection-handling"
        /// Article 39: each unit asked to check answers within 3 working days.
        case objectionCheck = "objection-check"
        /// Article 40: credit restored and display withdrawn everywhere within 10 working days.
        case restoration
    }

    public var caseId: String
    public var recordKey: String
    public var caseState: RightsCase.State
    public var name: Name
    /// The unit an `objection-check` window waits for.
    public var unit: String?
    public var window: LegalWindow
    public var state: LegalWindow.State
    /// For a window that waits for every active node to apply an entry (`objection-label`, a
    /// granted `restoration`): the hub-log position of that entry, and, while it waits, the
    /// active nodes that have not applied it (filled in by the operators' snapshot).
    public var position: UInt64? = nil
    public var waitingFor: [String] = []
}

extension HubService {
    /// The windows of a case at `now`, on the calendar in force.
    public func rightsWindows(_ row: RightsCaseRow, at now: Date) -> [RightsWindowStatus] {
        let calendar = reference.calendar
        let c = row.rightsCase
        func date(_ ms: UInt64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
        func status(_ name: RightsWindowStatus.Name, from: UInt64, days: Int, completedAt: Date?, unit: String? = nil,
                    paused: Bool = false, position: UInt64? = nil) -> RightsWindowStatus {
            // A window that counts from a valid instant cannot fail to have a deadline: the count is non-negative.
            let window = LegalWindow(deadline: (try? calendar.deadline(after: date(from), workingDays: days))!, completedAt: completedAt)
            let state = paused && completedAt == nil ? .paused : window.state(at: now, calendar: calendar)
            return RightsWindowStatus(caseId: c.id, recordKey: c.recordKey, caseState: c.state, name: name, unit: unit, window: window, state: state,
                                      position: position)
        }
        switch c.kind {
        case .objection:
            // Article 39 ¶3: the working days a pause covers do not count (Protocol/rights.md §5).
            let today = ChinaTime.date(of: now)
            let paused = c.pauses.reduce(0) { total, pause in
                total + calendar.workingDays(after: ChinaTime.date(of: date(pause.from)), through: pause.to.map { ChinaTime.date(of: date($0)) } ?? today)
            }
            var list = [
                status(.objectionLabel, from: c.openedAt, days: 1, completedAt: row.labelCompletedAt, position: row.labelPosition),
                status(.objectionHandling, from: c.openedAt, days: (c.checksAt == nil ? 3 : 7) + paused,
                       completedAt: c.closedAt.map(date), paused: c.state == .paused),
            ]
            if let checksAt = c.checksAt {
                list += c.checkUnits.map { unit in
                    // The case's outcome ends the wait for a unit that had not answered: a closed
                    // case must not turn breached later for a check nobody needs any more.
                    status(.objectionCheck, from: checksAt, days: 3, completedAt: (c.answered[unit] ?? c.closedAt).map(date), unit: unit)
                }
            }
            return list
        case .restoration:
            let done = c.state == .refused ? c.closedAt.map(date) : row.grantCompletedAt
            return [status(.restoration, from: c.openedAt, days: 10, completedAt: done, position: c.state == .refused ? nil : row.grantPosition)]
        case .listRemoval:
            return []
        }
    }

    /// The windows of the cases operators see (open, waiting for a node, or received in the last
    /// ``snapshotDays`` days), at `now`.
    func recentRightsWindows(at now: Date) throws -> [RightsWindowStatus] {
        try store.rightsCases(openOrClosedSince: now.addingTimeInterval(-Double(Self.snapshotDays) * 86_400))
            .flatMap { rightsWindows($0, at: now) }
    }
}
