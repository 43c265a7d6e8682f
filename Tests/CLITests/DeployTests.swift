import CreditData
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import Testing

/// The files in `Deploy/` and `creditsync deploy init`, checked with the real tools.
@Suite struct DeployTests {
    let deploy = Fixtures.repositoryRoot.appendingPathComponent("Deploy")

    func run(_ tool: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) async throws -> ChildProcess.Output {
        try await ChildProcess.run(URL(fileURLWithPath: tool), arguments, environment: environment, directory: directory)
    }

    @Test func portsPastTheRangeAreRefused() async throws {
        let dir = try Fixtures.temporaryDirectory("deploy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try await CLI.run(["deploy", "init", "--out", dir.appendingPathComponent("x").path, "--counties", "--port", "65500"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("65535"), "\(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x/hub").path))
    }

    /// A subset of the province, node keys made on the nodes, an enrollment script that finds
    /// the binary, says what is missing, and can run twice; Prometheus targets that promtool takes.
    @Test func aSubsetWithKeysMadeOnTheNodesEnrollsIdempotently() async throws {
        let dir = try Fixtures.temporaryDirectory("deploy-subset")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("province")
        let made = try await CLI.run(["deploy", "init", "--out", out.path, "--cities", "360100,360400", "--node-keys-on-nodes", "--port", "9100"])
        #expect(made.status == 0, "\(made.stderr)")
        let nodes = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("nodes").path).sorted()
        #expect(nodes == ["360100", "360400"])
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("nodes/360100/node.key").path), "no node private key on the hub's side")
        #expect(try await CLI.run(["deploy", "init", "--out", dir.appendingPathComponent("bad").path, "--cities", "369999"]).status != 0)

        let environment = ["CREDITSYNC": CLI.executable.path]
        let missing = try await run("/bin/sh", [out.appendingPathComponent("enroll.sh").path], environment: environment)
        #expect(missing.status != 0 && missing.stderr.contains("nodes/360100/node.key.pub is missing"), "\(missing.stderr)")
        // Each node makes its key; only the public half comes back.
        for id in nodes {
            let keygen = try await CLI.run(["keygen", "--out", dir.appendingPathComponent("key-\(id)").path])
            #expect(keygen.status == 0, "\(keygen.stderr)")
            try FileManager.default.copyItem(at: dir.appendingPathComponent("key-\(id).pub"),
                                             to: out.appendingPathComponent("nodes/\(id)/node.key.pub"))
        }
        let first = try await run("/bin/sh", [out.appendingPathComponent("enroll.sh").path], environment: environment)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.components(separatedBy: "enrolled node").count == 3, "\(first.stdout)")
        let again = try await run("/bin/sh", [out.appendingPathComponent("enroll.sh").path], environment: environment)
        #expect(again.status == 0 && again.stdout.components(separatedBy: "nothing changed").count == 3, "\(again.stdout)\(again.stderr)")
        let hubConfig = out.appendingPathComponent("hub/hub.conf.json")
        // A node takes credentials for units of its own area only (Protocol/merge.md §1), unless
        // told the hub operator widened it, which `hub node area` does.
        let nanchangConfig = out.appendingPathComponent("nodes/360100/node.conf.json").path
        let ganzhouUnit = SyntheticRecords(division: "360700").regulatorCode
        let outside = try await CLI.run(["node", "provider", "add", "--config", nanchangConfig, "--name", "赣州局", "--unit", ganzhouUnit])
        #expect(outside.status != 0 && outside.stderr.contains("outside node 360100's area"), "\(outside.stderr)")
        let county = try await CLI.run(["node", "provider", "add", "--config", nanchangConfig, "--name", "东湖局", "--unit", SyntheticRecords(division: "360102").regulatorCode])
        #expect(county.status == 0, "\(county.stderr)")
        let widened = try await CLI.run(["hub", "node", "area", "--config", hubConfig.path, "--id", "360100", "--add", "3607"])
        #expect(widened.status == 0 && widened.stdout.contains("360100 and its counties (3601xx), and 3607…"), "\(widened.stdout)\(widened.stderr)")
        #expect(try await CLI.run(["node", "provider", "add", "--config", nanchangConfig, "--name", "赣州局", "--unit", ganzhouUnit, "--outside-area"]).status == 0)
        let (_, store) = try openHubStore(configPath: hubConfig.path)
        #expect(try store.nodes().map(\.id).sorted() == ["360100", "360400"])
        // The provincial store enroll.sh created is its owner's alone, whatever the umask.
        for file in ["hub.sqlite", "hub.sqlite-evidence", "hub.sqlite-wal"] {
            let mode = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("hub/\(file)").path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file): \(String(mode ?? 0, radix: 8))")
        }
        // An operator token group or others can read is refused, naming the file, as a key is.
        let token = out.appendingPathComponent("hub/operator.token")
        try Data("0123456789abcdef0123".utf8).write(to: token)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: token.path)
        let hubText = try String(contentsOf: hubConfig, encoding: .utf8)
        try Data(hubText.replacingOccurrences(of: #""operator": {"host": "127.0.0.1", "port": 9103}"#,
                                           with: #""operator": {"host": "127.0.0.1", "port": 9103, "tokenFile": "operator.token"}"#).utf8).write(to: hubConfig)
        let readable = try await CLI.run(["check-config", hubConfig.path])
        #expect(readable.status == 1 && readable.stderr.contains("operator.token is open to group or others (mode 644)"), "\(readable.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: token.path)
        let privateToken = try await CLI.run(["check-config", hubConfig.path])
        #expect(privateToken.status == 0, "\(privateToken.stderr)")

        // The generated scrape configuration, with the shipped rules written beside it.
        let prometheus = out.appendingPathComponent("prometheus")
        #expect(try Data(contentsOf: prometheus.appendingPathComponent("creditsync.rules.yml"))
                == Data(contentsOf: deploy.appendingPathComponent("prometheus/creditsync.rules.yml")))
        let text = try String(contentsOf: prometheus.appendingPathComponent("prometheus.yml"), encoding: .utf8)
        #expect(text.contains("127.0.0.1:9103") && text.contains("node: \"360400\"") && text.contains("hub: \"360000\"") && text.contains("127.0.0.1:9102"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let check = try await run("/usr/bin/promtool", ["check", "config", "prometheus.yml"], in: prometheus)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }

    /// The systemd layout follows the shipped units: what a daemon writes (its store, the WAL
    /// beside it, a hub's evidence file, a node's reference cache) is under the unit's
    /// ReadWritePaths and StateDirectory; what it reads (configuration, keys, data) is under
    /// /etc/creditsync, which the unit mounts read-only.
    @Test func theSystemdLayoutWritesOnlyWhereTheUnitsAllow() async throws {
        let dir = try Fixtures.temporaryDirectory("deploy-systemd")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("province")
        // Listening on every address needs the address the nodes reach the hub at.
        let nowhere = try await CLI.run(["deploy", "init", "--out", out.path, "--layout", "systemd", "--cities", "360100", "--host", "0.0.0.0"])
        #expect(nowhere.status == 2 && nowhere.stderr.contains("--hub-address"), "\(nowhere.stderr)")
        try? FileManager.default.removeItem(at: out)
        let made = try await CLI.run(["deploy", "init", "--out", out.path, "--layout", "systemd", "--cities", "360100,360700", "--host", "0.0.0.0",
                                "--hub-address", "hub.credit.jiangxi.example"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("systemctl enable --now creditsync-node@"), "\(made.stdout)")
        // Enrolled as root, the hub's store would be root's and the hub, run as creditsync, could not open it.
        if getuid() == 0 {
            let asRoot = try await run("/bin/sh", [out.appendingPathComponent("enroll.sh").path], environment: ["CREDITSYNC": CLI.executable.path])
            #expect(asRoot.status == 1 && asRoot.stderr.contains("sudo -u creditsync ./enroll.sh"), "\(asRoot.stderr)")
        }
        #expect(try ConfigFile.load(NodeConfig.self, from: out.appendingPathComponent("nodes/360100/node.conf.json").path).hub.url
                == "http://hub.credit.jiangxi.example:8100")
        func unit(_ name: String, instance: String) throws -> (rw: [String], ro: [String], state: String) {
            let text = try String(contentsOf: deploy.appendingPathComponent("systemd/\(name)"), encoding: .utf8)
                .replacingOccurrences(of: "%i", with: instance)
            func values(_ key: String) -> [String] {
                text.split(separator: "\n").filter { $0.hasPrefix(key + "=") }.flatMap { $0.dropFirst(key.count + 1).split(separator: " ").map(String.init) }
            }
            return (values("ReadWritePaths"), values("ReadOnlyPaths"), "/var/lib/" + (values("StateDirectory").first ?? "?"))
        }
        func under(_ path: String, _ roots: [String]) -> Bool { roots.contains { path == $0 || path.hasPrefix($0 + "/") } }

        let hubUnit = try unit("creditsync-hub.service", instance: "")
        let hub = try ConfigFile.load(HubConfig.self, from: out.appendingPathComponent("hub/hub.conf.json").path)
        for written in [hub.database, hub.database + "-wal", hub.database + "-evidence", hub.database + ".lock"] {
            #expect(under(written, hubUnit.rw) && under(written, [hubUnit.state]), "the hub writes \(written)")
        }
        for read in [hub.signingKey] + (hub.data ?? []) { #expect(under(read, hubUnit.ro), "the hub reads \(read)") }
        for id in ["360100", "360700"] {
            let nodeUnit = try unit("creditsync-node@.service", instance: id)
            let node = try ConfigFile.load(NodeConfig.self, from: out.appendingPathComponent("nodes/\(id)/node.conf.json").path)
            let cache = URL(fileURLWithPath: node.database).deletingLastPathComponent().appendingPathComponent("reference").path
            for written in [node.database, node.database + "-wal", node.database + ".lock", cache] {
                #expect(under(written, nodeUnit.rw) && under(written, [nodeUnit.state]), "node \(id) writes \(written)")
            }
            for read in [node.signingKey] + node.hub.publicKeys { #expect(under(read, nodeUnit.ro), "node \(id) reads \(read)") }
        }
    }

    @Test func alertRulesPassPromtoolUnitTests() async throws {
        // Scripts/bootstrap installs Debian's prometheus package, which ships promtool.
        let promtool = "/usr/bin/promtool"
        try #require(FileManager.default.isExecutableFile(atPath: promtool), "promtool is missing: run Scripts/bootstrap")
        let dir = deploy.appendingPathComponent("prometheus")
        let check = try await run(promtool, ["check", "rules", "creditsync.rules.yml"], in: dir)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let test = try await run(promtool, ["test", "rules", "creditsync.rules.test.yml"], in: dir)
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        let config = try await run(promtool, ["check", "config", "prometheus.yml"], in: dir)
        #expect(config.status == 0, "\(config.stdout)\(config.stderr)")
    }

    /// Every query of the shipped Grafana dashboard is evaluated by promtool against a
    /// Prometheus that has seen one hub request refusal and nothing else: each must parse, the
    /// two event panels must draw a 0 line ("none") before their first event instead of an
    /// empty panel, and that line must give way to the real series once one exists.
    @Test func grafanaQueriesAreValidPromQLAndEventPanelsStartAtZero() async throws {
        let promtool = "/usr/bin/promtool"
        try #require(FileManager.default.isExecutableFile(atPath: promtool), "promtool is missing: run Scripts/bootstrap")
        let grafana = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: deploy.appendingPathComponent("grafana/creditsync-dashboard.json"))) as? [String: Any])
        let expressions = (grafana["panels"] as? [[String: Any]] ?? [])
            .flatMap { ($0["targets"] as? [[String: Any]]) ?? [] }.compactMap { $0["expr"] as? String }
        #expect(expressions.count >= 14)
        #expect(expressions.filter { $0.contains("or on()") }.count == 2, "the two event panels fall back to 0")
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        var lines = ["rule_files: []", "tests:", "  - interval: 1m", "    input_series:",
                     "      - series: 'creditsync_hub_refusals_total{reason=\"replayed\"}'", "        values: '0+1x10'",
                     "    promql_expr_test:"]
        for expr in expressions {
            lines += ["      - expr: \(quoted(expr))", "        eval_time: 5m"]
            if expr.contains("creditsync_hub_refusals_total") {
                lines += ["        exp_samples:", "          - labels: '{reason=\"replayed\"}'", "            value: 0.016666666666666666"]
            } else if expr.contains("or on()") {
                lines += ["        exp_samples:", "          - labels: '{reason=\"none\"}'", "            value: 0"]
            } else {
                lines += ["        exp_samples: []"]
            }
        }
        let dir = try Fixtures.temporaryDirectory("grafana")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(lines.joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("panels.test.yml"))
        let test = try await run(promtool, ["test", "rules", "panels.test.yml"], in: dir)
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
    }

    @Test func systemdUnitsVerify() async throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { return } // checked where systemd is installed
        let dir = try Fixtures.temporaryDirectory("units")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (source, target) in [("creditsync-hub.service", "creditsync-hub.service"), ("creditsync-node@.service", "creditsync-node@360100.service")] {
            let text = try String(contentsOf: deploy.appendingPathComponent("systemd/\(source)"), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/creditsync", with: CLI.executable.path)
            try Data(text.utf8).write(to: dir.appendingPathComponent(target))
            let result = try await run(analyze, ["verify", dir.appendingPathComponent(target).path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stderr.contains(target), "systemd-analyze complains: \(result.stderr)")
        }
    }

    @Test func sampleConfigurationsAreValid() throws {
        let hub = try ConfigFile.load(HubConfig.self, from: deploy.appendingPathComponent("config/hub.conf.json").path)
        #expect(hub.hub.id == "360000")
        let node = try ConfigFile.load(NodeConfig.self, from: deploy.appendingPathComponent("config/node.conf.json").path)
        #expect(node.node.id == "360100" && node.hub.publicKeys.count == 1)
        let grafana = try JSONSerialization.jsonObject(with: Data(contentsOf: deploy.appendingPathComponent("grafana/creditsync-dashboard.json"))) as? [String: Any]
        #expect((grafana?["panels"] as? [Any])?.count ?? 0 >= 8)
    }

    @Test func deployInitWritesTheWholeProvince() async throws {
        let dir = try Fixtures.temporaryDirectory("province")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("jiangxi")
        let result = try await CLI.run(["deploy", "init", "--out", out.path, "--counties"])
        #expect(result.status == 0, "\(result.stderr)")
        let nodes = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("nodes").path)
        #expect(nodes.count == 111) // 11 cities and 100 county-level divisions
        #expect(nodes.contains("360100") && nodes.contains("360426"))
        for id in ["360100", "361128"] where nodes.contains(id) {
            let config = try ConfigFile.load(NodeConfig.self, from: out.appendingPathComponent("nodes/\(id)/node.conf.json").path)
            #expect(config.node.id == id)
            let mode = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("nodes/\(id)/node.key").path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        // A year's notice registered at the hub lands in its data directory, for every node.
        let notice = dir.appendingPathComponent("holiday-cn-2027.json")
        try Data(#"{"year":2027,"papers":[],"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}"#.utf8).write(to: notice)
        let added = try await CLI.run(["hub", "reference", "add", "--config", out.appendingPathComponent("hub/hub.conf.json").path, notice.path])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("hub/data/calendar/holiday-cn-2027.json").path))
        // Run as root, whose umask is often 077, the file is still readable by the hub's user.
        let later = dir.appendingPathComponent("holiday-cn-2028.json")
        try Data(#"{"year":2028,"papers":[],"days":[{"name":"元旦","date":"2028-01-01","isOffDay":true}]}"#.utf8).write(to: later)
        let strict = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "umask 077 && exec \"$0\" hub reference add --config \"$1\" \"$2\"",
                                                                                CLI.executable.path, out.appendingPathComponent("hub/hub.conf.json").path, later.path])
        #expect(strict.status == 0 && strict.stdout.contains("holiday file for 2028 (1 days) registered"), "\(strict.stderr)")
        let written = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("hub/data/calendar/holiday-cn-2028.json").path)
        #expect(written[.posixPermissions] as? Int == 0o644)
        // Before the first start, under the units' StateDirectory, the store's directory is not
        // there yet: a note, not a failure. Anywhere else it must be made first.
        let nanchangConfig = out.appendingPathComponent("nodes/360100/node.conf.json").path
        let nodeText = try String(contentsOfFile: nanchangConfig, encoding: .utf8)
        for (database, passes) in [("/var/lib/creditsync/not-yet-\(UUID().uuidString)/node.sqlite", true), ("\(dir.path)/missing/node.sqlite", false)] {
            let unstarted = URL(fileURLWithPath: nanchangConfig).deletingLastPathComponent().appendingPathComponent("unstarted.conf.json")
            try Data(nodeText.replacingOccurrences(of: #""database": "node.sqlite""#, with: "\"database\": \"\(database)\"").utf8).write(to: unstarted)
            let check = try await CLI.run(["check-config", unstarted.path])
            #expect((check.status == 0) == passes && check.stderr.contains("install -d -o creditsync -g creditsync -m 0700"), "\(check.stderr)")
        }
        // An operator enrolls Jiujiang and narrows what it receives; an unknown item is refused.
        let hubConfig = out.appendingPathComponent("hub/hub.conf.json").path
        let add = try await CLI.run(["hub", "node", "add", "--config", hubConfig, "--id", "360400", "--name", "九江",
                               "--key", out.appendingPathComponent("nodes/360400/node.key.pub").path])
        #expect(add.status == 0, "\(add.stderr)")
        let subscribe = try await CLI.run(["hub", "node", "subscribe", "--config", hubConfig, "--id", "360400", "--items", "administrative-permit"])
        #expect(subscribe.status == 0, "\(subscribe.stderr)")
        #expect(try await CLI.run(["hub", "node", "list", "--config", hubConfig]).stdout.contains("receives: administrative-permit"))
        let unknown = try await CLI.run(["hub", "node", "subscribe", "--config", hubConfig, "--id", "360400", "--items", "no-such-item"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no-such-item"))
        #expect(try await CLI.run(["hub", "node", "subscribe", "--config", hubConfig, "--id", "360400"]).status != 0)
        #expect(try await CLI.run(["hub", "node", "subscribe", "--config", hubConfig, "--id", "360400", "--all"]).stdout.contains("receives new records of all"))
        // Beside a running hub (it holds its store's lock here), operator commands still work and
        // the report reads as an operator.
        let running = try HubStore(path: out.appendingPathComponent("hub/hub.sqlite").path)
        let listed = try await CLI.run(["hub", "node", "list", "--config", hubConfig, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(json.contains { $0["id"] as? String == "360400" && ($0["subscription"] as? [String]) == nil })
        let report = try await CLI.run(["hub", "report", "--config", hubConfig, "--from", "2026-01-01", "--to", "2026-12-31"])
        #expect(report.status == 0 && report.stdout.hasPrefix("origin_node,"), "\(report.stderr)")
        try running.close()
        let enroll = try String(contentsOf: out.appendingPathComponent("enroll.sh"), encoding: .utf8)
        #expect(enroll.split(separator: "\n").filter { $0.hasPrefix("enroll 36") }.count == 111)
        #expect(try await CLI.run(["deploy", "init", "--out", out.path]).status == 1)
    }
}
