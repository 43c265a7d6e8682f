public import Foundation

/// Article 41's two windows for a correction or a revocation, in one place: the hub's tracker
/// and a node's count of the corrections it has not pushed yet must agree on them.
public enum Article41 {
    /// Working days a correction has to reach the hub, from the day it took effect.
    public static let reachHubWorkingDays = 3
    /// Working days every copy has to be fixed in, from the day the hub received it.
    public static let fixCopiesWorkingDays = 4

    /// When a correction effective at `effectiveAt` must have reached the hub.
    public static func reachHub(effectiveAt: Date, calendar: WorkingDayCalendar) -> Deadline {
        // Counting forward from any date ends: working days are never absent for long.
        (try? calendar.deadline(after: effectiveAt, workingDays: reachHubWorkingDays))!
    }

    /// When every copy of a correction the hub received at `receivedAt` must be fixed.
    public static func fixCopies(receivedAt: Date, calendar: WorkingDayCalendar) -> Deadline {
        (try? calendar.deadline(after: receivedAt, workingDays: fixCopiesWorkingDays))!
    }
}
