import CreditCore
import Foundation

/// The printable credit report (信用报告) of a self-enquiry: one self-contained HTML page in
/// Chinese, with nothing loaded from elsewhere, laid out for A4. `creditsync report --pdf` prints
/// it with headless Chromium (Debian's Noto CJK fonts render the Chinese text).
enum CreditReportPage {
    static func html(_ report: CreditReport, catalog: Catalog) -> String {
        let time = ISO8601DateFormatter()
        time.timeZone = TimeZone(secondsFromGMT: ChinaTime.offset)
        func when(_ d: Date) -> String { time.string(from: d).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "+08:00", with: "") }
        func esc(_ t: String) -> String {
            t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        func text(_ value: JSONValue) -> String {
            switch value {
            case let .string(s): s
            case let .number(n): n
            case let .bool(b): b ? "是" : "否"
            case .null: ""
            case let .array(items): items.map(text).joined(separator: "；")
            case let .object(o): o.sorted { $0.key < $1.key }.map { "\($0.key)：\(text($0.value))" }.joined(separator: "，")
            }
        }
        let statusName = ["active": "有效", "revoked": "已撤销"]
        let operationName = ["create": "报送", "correct": "更正", "revoke": "撤销"]
        let stepName = ["filed": "提出异议", "checks": "请其他单位核查", "checked": "核查回复", "paused": "暂停计时", "resumed": "恢复计时",
                        "upheld": "异议成立", "rejected": "异议不成立", "applied": "申请信用修复", "granted": "准予修复", "refused": "不予修复",
                        "removed": "移出名单"]
        let records = report.records.map { entry -> String in
            let d = entry.record
            let item = catalog.item(d.item)
            var fields = ""
            if case let .object(record) = d.record, case let .object(values)? = record["fields"] {
                for spec in item?.fields ?? [] {
                    guard let value = values[spec.name] else { continue }
                    fields += "<tr><th>\(esc(spec.label))</th><td>\(esc(text(value)))</td></tr>"
                }
            }
            let history = d.history.map { v -> String in
                "<tr><td>\(v.version)</td><td>\(operationName[v.operation] ?? esc(v.operation))</td><td>\(esc(v.originNode))</td>"
                    + "<td class=\"nowrap\">\(when(v.acceptedAt))</td><td>\(esc(v.reason ?? ""))</td><td>\(esc(v.decisionDocument ?? ""))</td></tr>"
            }.joined()
            let cases = d.rights.cases.flatMap { c in
                c.steps.map { s in
                    "<tr><td class=\"nowrap\">\(esc(c.id))</td><td>\(stepName[s.event.rawValue] ?? s.event.rawValue)</td><td>\(esc(s.node))</td>"
                        + "<td class=\"nowrap\">\(when(Date(timeIntervalSince1970: Double(s.at) / 1000)))</td><td>\(esc(s.reason ?? s.detail ?? ""))</td></tr>"
                }
            }.joined()
            let labels = (d.rights.labels.contains("objection") ? "<span class=\"label\">异议处理中</span>" : "")
                + (d.rights.display == "withdrawn" ? "<span class=\"label\">已停止公示</span>" : "")
            let match = entry.matchesHub.map { $0 ? "与省级平台一致" : "与省级平台不一致" } ?? "省级平台未列出"
            return """
            <section class="record">
            <h3>\(esc(item?.name ?? d.item)) · \(esc(d.recordId)) \(labels)</h3>
            <p>信息提供单位 \(esc(d.provider)) · 身份 \(esc(entry.role == "subject" ? "信用主体" : entry.role)) · 状态 \(statusName[d.status] ?? esc(d.status)) · 数据来源节点 \(esc(d.originNode)) · \(match)</p>
            <table class="fields">\(fields)</table>
            <h4>变更记录</h4>
            <table><tr><th>版本</th><th>操作</th><th>来源节点</th><th>时间</th><th>原因</th><th>决定文书</th></tr>\(history)</table>
            \(cases.isEmpty ? "" : "<h4>异议与信用修复</h4><table><tr><th>案件</th><th>事项</th><th>节点</th><th>时间</th><th>说明</th></tr>\(cases)</table>")
            </section>
            """
        }.joined(separator: "\n")
        let verification = report.verification
        let statusText = ["verified": "核验一致", "differs": "存在差异", "unavailable": "无法核验"][verification.status] ?? verification.status
        let signature = report.hubSignature.map { s in
            """
            <p>省级平台 \(esc(s.hub)) 于 \(when(s.signedAt)) 签名确认其持有的 \(s.records) 条记录（日志规模 \(s.hubLogSize)，根 <code>\(esc(s.hubLogRoot))</code>，密钥 \(esc(s.keyId))）。</p>
            <p class="envelope">\(esc(s.envelope))</p>
            <p>核验：<code>creditsync report verify --hub-key 省级平台公钥 报告.json</code></p>
            """
        } ?? "<p>本报告未取得省级平台签名。</p>"
        return """
        <!doctype html>
        <html lang="zh-CN"><head><meta charset="utf-8"><title>信用报告 \(esc(report.subject))</title>
        <style>
        @page{size:A4;margin:16mm}
        body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;font-size:10.5pt;color:#111}
        h1{font-size:18pt;text-align:center;margin:0 0 4mm}h3{font-size:12pt;margin:5mm 0 1mm}h4{font-size:10.5pt;margin:2mm 0 1mm}
        table{border-collapse:collapse;width:100%;margin-bottom:2mm}th,td{border:1px solid #999;padding:1mm 2mm;text-align:left;vertical-align:top}
        th{background:#eee;font-weight:normal;white-space:nowrap}td.nowrap{white-space:nowrap}.fields th{width:30%}
        .record{page-break-inside:avoid}.label{border:1px solid #b00;color:#b00;padding:0 1mm;margin-left:2mm;font-size:9pt}
        .envelope{font-family:monospace;font-size:6pt;word-break:break-all}
        </style></head><body>
        <h1>公共信用信息报告（自查）</h1>
        <p>信用主体：\(esc(report.subjectName ?? "")) \(esc(report.subject)) · 查询节点：\(esc(report.node)) · 生成时间：\(when(report.generatedAt)) · 依据《江西省社会信用条例》第三十八条免费查询</p>
        <p>共 \(report.records.count) 条记录 · 核验结果：\(statusText)\(verification.missingHere.isEmpty ? "" : " · 尚未同步至本节点：\(verification.missingHere.map(esc).joined(separator: "，"))")</p>
        \(records)
        <h2>省级平台签名</h2>
        \(signature)
        </body></html>
        """
    }
}
