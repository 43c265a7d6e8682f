public import Foundation

/// A legal window counted in working days (Articles 39–41) and where it stands at a moment.
///
/// Its state moves with the clock, not only with events: a correction nobody touches goes from
/// on time to at risk to breached as working days pass, which is why the state is computed from
/// "now" every time it is read.
public struct LegalWindow: Sendable, Equatable, Codable {
    /// Where a window stands.
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Open, with at least one working day left.
        case onTime = "on-time"
        /// Open, with less than one working day left.
        case atRisk = "at-risk"
        /// Open past its end.
        case breached
        /// Open, with a due date computed on the Monday–Friday fallback for a year whose
        /// official calendar is not loaded: the date may move.
        case provisional
        /// Open, with its clock stopped: an objection's handling while an inspection, test,
        /// quarantine, evaluation or expert review runs (Article 39 ¶3).
        case paused
        /// Done by its end.
        case met
        /// Done after its end.
        case missed
    }

    public var deadline: Deadline
    /// When what the window waits for happened, if it has.
    public var completedAt: Date?
    /// Working days left, to two decimals rounded down (``remainingWorkingDays(at:calendar:)``;
    /// a window at risk, with less than one left, never reads 1), where a
    /// window is shown at a moment: filled by the hub's status snapshot for an open window, so
    /// an operator (and a client of `/v1/status`) reads "0.4 working days left" instead of
    /// counting holidays from a due date. Nil elsewhere, once the window is closed, and past
    /// its end (breached says it).
    public var workingDaysLeft: Double?

    public init(deadline: Deadline, completedAt: Date? = nil) {
        self.deadline = deadline
        self.completedAt = completedAt
    }

    /// The state at `now` on `calendar`.
    public func state(at now: Date, calendar: WorkingDayCalendar) -> State {
        if let completedAt { return completedAt <= deadline.closesAt ? .met : .missed }
        if now >= deadline.closesAt { return .breached }
        if remainingWorkingDays(at: now, calendar: calendar) < 1 { return .atRisk }
        return deadline.isProvisional ? .provisional : .onTime
    }

    /// Working time left at `now`, in working days: the rest of today if today is a working day,
    /// plus each working day after today through the due date.
    public func remainingWorkingDays(at now: Date, calendar: WorkingDayCalendar) -> Double {
        let today = ChinaTime.date(of: now)
        guard today <= deadline.due else { return 0 }
        var left = Double(calendar.workingDays(after: today, through: deadline.due))
        if calendar.isWorkingDay(today) {
            left += ChinaTime.endOfDay(today).timeIntervalSince(now) / 86_400
        }
        return left
    }

    /// "0.9 working days left", to a tenth rounded down (0.96 left is at risk: never "1.0"),
    /// when ``workingDaysLeft`` is filled in.
    public var workingDaysLeftText: String? {
        workingDaysLeft.map { String(format: "%.1f working days left", ($0 * 10).rounded(.down) / 10) }
    }

    /// This window with ``workingDaysLeft`` filled in at `now` while it is open.
    public func showingWorkingDaysLeft(at now: Date, calendar: WorkingDayCalendar) -> LegalWindow {
        guard completedAt == nil, now < deadline.closesAt else { return self }
        var shown = self
        shown.workingDaysLeft = (remainingWorkingDays(at: now, calendar: calendar) * 100).rounded(.down) / 100
        return shown
    }
}
