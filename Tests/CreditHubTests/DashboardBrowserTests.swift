import CreditCore
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import Hummingbird
import Logging
import Testing

/// The dashboard as an operator sees it: served by the hub's operator listener, rendered by
/// headless Chromium (Debian's, installed by Scripts/bootstrap), checked on the DOM the browser
/// built and on a screenshot.
@Suite struct DashboardBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs headless Chromium on `url` with `arguments`, returning its standard output.
    static func browse(_ url: String, _ arguments: [String], profile: URL) async throws -> String {
        let browser = URL(fileURLWithPath: try #require(chromium, "chromium is missing: run Scripts/bootstrap"))
        return try await ChildProcess.run(browser, ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                                    "--user-data-dir=\(profile.path)", "--virtual-time-budget=3000"] + arguments + [url]).stdout
    }

    @Test func theDashboardRendersItsNodeTableInARealBrowser() async throws {
        let dir = try Fixtures.temporaryDirectory("dashboard")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (h, nodes) = try HubFixture.federation(["360100", "360700"])
        _ = try nodes[0].service.submit(nodes[0].punishments(0..<5), by: nodes[0].identity)
        _ = try await h.pusher(nodes[0]).pushOnce()
        _ = try await h.receiver(nodes[1]).pullOnce(wait: 0)
        let (port, server) = try await LoopbackHTTP.serve(OperatorAPI.router(service: h.hub), label: "dashboard")
        defer { server.cancel() }
        let url = "http://127.0.0.1:\(port)/"

        // The DOM after the browser parsed and laid out the page.
        let dom = try await Self.browse(url, ["--dump-dom"], profile: dir.appendingPathComponent("profile-dom"))
        #expect(dom.contains("<h2>Nodes</h2>"), "\(dom.prefix(500))")
        for node in ["360100", "360700"] { #expect(dom.contains("<td>\(node)</td>"), "a row for \(node)") }
        #expect(dom.contains("<td>node 360700</td>"), "the node's name in its row")
        #expect(!dom.contains("SQL(") && !dom.contains("GRDB"), "no debug text")
        let rows = dom.components(separatedBy: "<tr").count - 1
        #expect(rows >= 3, "a header and a row per node at least: \(rows)")

        // A screenshot of the page: a PNG of the window's size that is not blank.
        let png = dir.appendingPathComponent("dashboard.png")
        _ = try await Self.browse(url, ["--screenshot=\(png.path)", "--window-size=1280,900", "--hide-scrollbars"],
                            profile: dir.appendingPathComponent("profile-shot"))
        let bytes = try [UInt8](Data(contentsOf: png))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280 && height == 900, "\(width)×\(height)")
        // A blank page compresses to a few kilobytes; text and tables do not.
        #expect(bytes.count > 15_000, "the screenshot is \(bytes.count) bytes: is the page empty?")
    }
}
