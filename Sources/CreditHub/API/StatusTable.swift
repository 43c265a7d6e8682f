import CreditCore
import Foundation

/// The plain-text status table `creditsync status` and the demo print.
public enum StatusTable {
    public static func render(_ s: HubService.Snapshot) -> String {
        let time = ISO8601DateFormatter()
        time.timeZone = TimeZone(secondsFromGMT: ChinaTime.offset)
        func pad(_ t: String, _ n: Int) -> String { t.padded(toDisplayWidth: n) }
        // An open window's working days left; a due date ends at 24:00 Asia/Shanghai.
        func left(_ w: LegalWindow) -> String { w.workingDaysLeftText.map { " (\($0))" } ?? "" }
        // A due date counted through a year without an official calendar says so, whatever its state.
        func due(_ w: LegalWindow) -> String { "\(w.deadline.due)" + (w.deadline.isProvisional ? " (provisional)" : "") }
        var out = "hub \(s.hub): \(s.hubLogSize) changes in the hub log, \(s.records) records, \(s.equivocations) equivocations\n"
        if !s.provisionalYears.isEmpty {
            out += "PROVISIONAL: no official calendar for \(s.provisionalYears.map(String.init).joined(separator: ", "))\n"
        }
        for f in s.forkReports {
            out += "FORK: node \(f.node) pinned a hub log of \(f.pinnedSize) changes this hub does not contain (reported \(time.string(from: f.reportedAt)))\n"
        }
        out += "\n" + pad("node", 8) + pad("name", 14) + pad("status", 9) + pad("pushed", 9) + pad("applied", 9) + pad("lag", 7) + pad("lag s", 8) + "last seen\n"
        for n in s.nodes {
            out += pad(n.id, 8) + pad(n.name, 14) + pad(n.status, 9) + pad(String(n.acknowledged), 9) + pad(String(n.fanOutApplied), 9)
                + pad(String(n.lagChanges), 7) + pad(String(Int(n.lagSeconds)), 8) + (n.lastSeen.map { time.string(from: $0) } ?? "never") + "\n"
        }
        let split = s.windowCountsByArticle
        let correctionCounts = split.article41.map { "\($0.key)=\($0.value)" }, rightsCounts = split.rights.map { "\($0.key)=\($0.value)" }
        out += "\nArticle 41 windows: \(correctionCounts.isEmpty ? "no corrections yet" : correctionCounts.joined(separator: " "))\n"
        let flagged = s.corrections.filter { [.atRisk, .breached, .missed].contains($0.reachHubState) || [.atRisk, .breached, .missed].contains($0.fixCopiesState) }
        for c in flagged {
            let waiting = c.waitingFor.isEmpty ? "" : "; not yet at \(c.waitingFor.joined(separator: " "))"
            out += "  \(c.row.recordKey) \(c.row.operation): reach hub by \(due(c.reachHub)) \(c.reachHubState.rawValue)\(left(c.reachHub)); "
                + "all copies by \(due(c.fixCopies)) \(c.fixCopiesState.rawValue)\(left(c.fixCopies))\(waiting)\n"
        }
        out += "Rights windows (Articles 39, 40): \(rightsCounts.isEmpty ? "no cases yet" : rightsCounts.joined(separator: " "))\n"
        for w in s.rights where [.atRisk, .breached, .missed, .paused].contains(w.state) {
            let waiting = w.waitingFor.isEmpty ? "" : "; not yet at \(w.waitingFor.joined(separator: " "))"
            out += "  case \(w.caseId) \(w.name.rawValue)\(w.unit.map { " " + $0 } ?? ""): due \(due(w.window)) \(w.state.rawValue)\(left(w.window)) (\(w.recordKey))\(waiting)\n"
        }
        let open = s.conflicts.filter { $0.resolvedAt == nil }
        if !open.isEmpty { out += "\(open.count) unresolved conflicts\n" }
        return out
    }
}
