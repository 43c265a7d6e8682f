import CreditCore
public import Foundation

extension HubService {
    /// The Article 41 compliance report: each correction received in [from, to) with its two
    /// windows, due dates and outcomes, per node, as CSV for an auditor.
    public func complianceReport(from: Date, to: Date) throws -> String {
        let header = ["origin_node", "record", "operation", "origin_sequence", "effective_at", "received_at",
                      "reach_hub_due", "reach_hub_provisional", "reach_hub_state", "copies_fixed_at", "fix_copies_due",
                      "fix_copies_provisional", "fix_copies_state"]
        let time = ISO8601DateFormatter()
        let rows = try correctionStatuses(from: from, to: to).sorted { ($0.row.originNode, $0.row.hubPosition) < ($1.row.originNode, $1.row.hubPosition) }
            .map { c in
                [c.row.originNode, c.row.recordKey, c.row.operation, String(c.row.originSequence), time.string(from: c.row.effectiveAt),
                 time.string(from: c.row.receivedAt), c.reachHub.deadline.due.description, String(c.reachHub.deadline.isProvisional),
                 c.reachHubState.rawValue, c.row.completedAt.map(time.string) ?? "", c.fixCopies.deadline.due.description,
                 String(c.fixCopies.deadline.isProvisional), c.fixCopiesState.rawValue]
            }
        return ([header] + rows).map { $0.map(CSV.escape).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// The compliance report of credit subjects' cases (Articles 39 and 40) opened in [from, to):
    /// each window of each case with its due date and state, as CSV for an auditor.
    public func rightsComplianceReport(from: Date, to: Date) throws -> String {
        let header = ["case", "kind", "record", "case_state", "window", "unit", "opened_at", "due", "provisional", "completed_at", "state", "paused_days"]
        let time = ISO8601DateFormatter()
        let now = now()
        let rows = try store.rightsCases(receivedFrom: from, to: to).flatMap { row in
            rightsWindows(row, at: now).map { w in
                let c = row.rightsCase
                return [c.id, c.kind.rawValue, c.recordKey, c.state.rawValue, w.name.rawValue, w.unit ?? "",
                        time.string(from: Date(timeIntervalSince1970: Double(c.openedAt) / 1000)), w.window.deadline.due.description,
                        String(w.window.deadline.isProvisional), w.window.completedAt.map(time.string) ?? "", w.state.rawValue,
                        w.name == .objectionHandling ? String(w.window.deadline.workingDays - (c.checksAt == nil ? 3 : 7)) : ""]
            }
        }
        return ([header] + rows).map { $0.map(CSV.escape).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}
