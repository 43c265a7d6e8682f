import CreditCore
import Foundation

/// The operator's dashboard: one self-contained HTML page (no scripts or styles from the
/// internet) rendered from the status snapshot, refreshing itself every 10 seconds.
enum Dashboard {
    /// The page for `s`. Every row builder says it makes a `String`: GRDB's `SQL` is also built from string
    /// interpolation and can be joined, and an unannotated closure once made the node table
    /// `SQL(elements: …)` debug text.
    static func html(_ s: HubService.Snapshot) -> String {
        let time = ISO8601DateFormatter()
        time.timeZone = TimeZone(secondsFromGMT: ChinaTime.offset)
        func when(_ d: Date?) -> String { d.map { time.string(from: $0).replacingOccurrences(of: "T", with: " ") } ?? "never" }
        func esc(_ t: String) -> String {
            t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        func provisional(_ d: Deadline) -> String { d.isProvisional ? " (provisional)" : "" }
        // A correction a whole province has not applied yet names the first few nodes, each by
        // its code and its city's or county's name: whom the operator calls.
        let names = Dictionary(s.nodes.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        func nodeList(_ ids: [String]) -> String {
            let named = ids.prefix(12).map { id in names[id].map { "\(id) \(esc($0))" } ?? id }.joined(separator: ", ")
            return ids.count <= 12 ? named : named + " and \(ids.count - 12) more"
        }
        // A due date, and while the window is open the working days it has left.
        func due(_ w: LegalWindow) -> String {
            let left = w.workingDaysLeftText.map { " · " + $0 } ?? ""
            return "\(w.deadline.due)\(provisional(w.deadline))\(left)"
        }
        func lag(_ seconds: Double) -> String {
            seconds < 1 ? "0 s" : seconds < 120 ? "\(Int(seconds)) s" : seconds < 7200 ? "\(Int(seconds / 60)) min" : "\(Int(seconds / 3600)) h"
        }
        let nodes = s.nodes.map { n -> String in
            // A running node long-polls at least every 25 s: a minute without it means down or cut
            // off, long before the 15-minute alert; the status column says so at once.
            let silentFor = n.lastSeen.map { s.generatedAt.timeIntervalSince($0) } ?? .infinity
            let silent = n.status == "active" && silentFor > 60
            let stale = n.lagSeconds > 3600 ? " class=\"bad\"" : n.lagSeconds > 300 || silent ? " class=\"warn\"" : ""
            let status = !silent ? n.status : n.lastSeen == nil ? "active, never seen" : "active, silent \(lag(silentFor))"
            let h = s.health[n.id]
            // A long reason is cut at a space, never inside a number, and kept whole in its tooltip.
            let refusal = h?.lastRefusal.map { reason in
                let head = String(reason.prefix(120))
                let cut = reason.count <= 120 ? reason : (head.lastIndex(of: " ").map { String(head[..<$0]) } ?? head) + " …"
                return "<span title=\"\(esc(reason))\">\(esc(cut))</span> (\(when(h?.lastRefusedAt)); \(h?.consecutiveRefusals ?? 0) in a row)"
            } ?? ""
            return "<tr\(stale)><td>\(n.id)</td><td>\(esc(n.name))</td><td>\(status)</td><td>\(n.acknowledged)</td><td>\(n.fanOutApplied)</td><td>\(n.lagChanges)</td><td>\(lag(n.lagSeconds))</td><td>\(when(n.lastSeen))</td><td>\(esc(h?.version ?? ""))</td><td>\(refusal)</td></tr>"
        }.joined(separator: "\n")
        let corrections = s.corrections.map { c -> String in
            "<tr class=\"\(c.reachHubState.rawValue) \(c.fixCopiesState.rawValue)\"><td>\(esc(c.row.recordKey))</td><td>\(c.row.operation)</td><td>\(c.row.originNode)</td>"
                + "<td>\(due(c.reachHub))</td><td class=\"s-\(c.reachHubState.rawValue)\">\(c.reachHubState.rawValue)</td>"
                + "<td>\(due(c.fixCopies))</td><td class=\"s-\(c.fixCopiesState.rawValue)\">\(c.fixCopiesState.rawValue)</td>"
                + "<td>\(nodeList(c.waitingFor))</td></tr>"
        }.joined(separator: "\n")
        let rights = s.rights.map { w -> String in
            "<tr><td>\(esc(w.caseId))</td><td>\(esc(w.recordKey))</td><td>\(w.caseState.rawValue)</td><td>\(w.name.rawValue)\(w.unit.map { " " + esc($0) } ?? "")</td>"
                + "<td>\(due(w.window))</td><td class=\"s-\(w.state.rawValue)\">\(w.state.rawValue)</td>"
                + "<td>\(nodeList(w.waitingFor))</td></tr>"
        }.joined(separator: "\n")
        let conflicts = s.conflicts.filter { $0.resolvedAt == nil }.map { c -> String in
            "<tr><td>\(esc(c.recordKey))</td><td>\(c.winner)</td><td>\(c.loser)</td><td>\(when(c.detectedAt))</td></tr>"
        }.joined(separator: "\n")
        let refusals = s.refusals.map { r -> String in
            "<tr><td>\(esc(r.recordKey))</td><td>\(r.node)#\(r.sequence)</td><td>\(esc(r.code))</td><td>\(esc(r.field))</td><td class=\"why\">\(esc(r.message))</td><td>\(r.receivedAt.map(when) ?? "")</td></tr>"
        }.joined(separator: "\n")
        // A node's pinned head this log does not contain: the hub was restored or rewrote its history.
        let forks = s.forkReports.map { f -> String in
            "<tr class=\"bad\"><td>\(f.node)</td><td>\(f.pinnedSize)</td><td>\(f.pinnedRoot.prefix(16))…</td><td>\(f.hubSize)</td><td>\(when(f.reportedAt))</td></tr>"
        }.joined(separator: "\n")
        let forkSection = s.forkReports.isEmpty ? "" : """
        <h2 class="bad">Fork reports: nodes pinned a hub log this hub does not contain</h2>
        <p>The hub was restored from a backup or its history was rewritten; the nodes re-feed what they pushed. See Protocol/hub-api.md, Log proofs.</p>
        <div class="scroll"><table><tr><th>node</th><th>pinned size</th><th>pinned root</th><th>hub size then</th><th>reported</th></tr>
        \(forks)
        </table></div>
        """
        // Article 41's windows and the rights windows, each counted under its own heading.
        let split = s.windowCountsByArticle
        let correctionCounts = split.article41.map { "\($0.key): \($0.value)" }.joined(separator: " · ")
        let rightsCounts = split.rights.map { "\($0.key): \($0.value)" }.joined(separator: " · ")
        let provisional = s.provisionalYears.isEmpty ? "" :
            "<p class=\"bad\">No official calendar loaded for \(s.provisionalYears.map(String.init).joined(separator: ", ")): deadlines in it are provisional (Monday–Friday assumed).</p>"
        return """
        <!doctype html>
        <html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
        <title>creditsync hub \(s.hub)</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;margin-bottom:1.5rem}
        th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;font-size:.9rem}th{background:#f3f3f3}
        .scroll{overflow-x:auto;max-width:100%}td.why{min-width:16rem;max-width:40rem}td{overflow-wrap:break-word}
        .warn,.s-at-risk{background:#fff3cd}.bad,.s-breached,.s-missed{background:#f8d7da}.s-provisional,.s-paused{background:#e2e3f5}.s-met{color:#2a7a2a}
        </style></head><body>
        <h1>creditsync — provincial hub \(s.hub)</h1>
        <p>As of \(when(s.generatedAt)) (Asia/Shanghai) · hub log \(s.hubLogSize) changes · \(s.records) records · equivocations \(s.equivocations)</p>
        \(provisional)
        \(forkSection)
        <h2>Nodes</h2>
        <div class="scroll"><table><tr><th>node</th><th>name</th><th>status</th><th>pushed through</th><th>fan-out applied</th><th>lag (changes)</th><th>lag</th><th>last seen</th><th>version</th><th>last refusal</th></tr>
        \(nodes)
        </table></div>
        <h2>Corrections (Article 41)</h2>
        <p>\(correctionCounts.isEmpty ? "none yet" : correctionCounts)</p>
        <p>A window ends at 24:00 Asia/Shanghai on its due date. Working days left count the rest of today when today is a working day.</p>
        <div class="scroll"><table><tr><th>record</th><th>operation</th><th>from</th><th>reach hub by</th><th>state</th><th>all copies fixed by</th><th>state</th><th>copies not yet fixed at</th></tr>
        \(corrections.isEmpty ? "<tr><td colspan=\"8\">none open or needing attention</td></tr>" : corrections)
        </table></div>
        <h2>Objections and restorations (Articles 39, 40)</h2>
        <p>\(rightsCounts.isEmpty ? "none yet" : rightsCounts)</p>
        <div class="scroll"><table><tr><th>case</th><th>record</th><th>case state</th><th>window</th><th>due</th><th>state</th><th>not yet applied at</th></tr>
        \(rights.isEmpty ? "<tr><td colspan=\"7\">none</td></tr>" : rights)
        </table></div>
        <h2>Conflicts</h2>
        <div class="scroll"><table><tr><th>record</th><th>winner</th><th>other version</th><th>detected</th></tr>
        \(conflicts.isEmpty ? "<tr><td colspan=\"4\">none</td></tr>" : conflicts)
        </table></div>
        <h2>Refused changes</h2>
        <div class="scroll"><table><tr><th>record</th><th>change</th><th>code</th><th>field</th><th>why</th><th>received</th></tr>
        \(refusals.isEmpty ? "<tr><td colspan=\"6\">none</td></tr>" : refusals)
        </table></div>
        </body></html>
        """
    }
}
