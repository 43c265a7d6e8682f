import CreditTesting
import Foundation
import Testing

/// End-to-end tests of the real `creditsync` binary: arguments in, text and exit codes out.
@Suite struct CLITests {
    let today = ["--today", Fixtures.today.description]

    @Test func idCheckSaysValid() async throws {
        let out = try await CLI.run(["id", "check", "11010519491231002X"] + today)
        #expect(out.status == 0)
        #expect(out.stdout.contains("valid"))
        #expect(out.stdout.contains("female"))
    }

    /// libfaketime, which operators use to try deadlines at another date, sets an environment
    /// variable before `main`, and the Swift runtime then lost every argument: each command
    /// printed the top-level help (README, "Deadlines at another date").
    @Test func argumentsSurviveAPreloadedLibraryThatSetsTheEnvironment() async throws {
        let library = try #require(try FileManager.default.contentsOfDirectory(atPath: "/usr/lib").lazy
            .map { "/usr/lib/\($0)/faketime/libfaketime.so.1" }.first { FileManager.default.fileExists(atPath: $0) },
            "Scripts/bootstrap installs Debian's faketime")
        let out = try await ChildProcess.run(CLI.executable, ["calendar", "deadline", "--from", "2026-09-30", "--working-days", "1"],
                                             environment: ["LD_PRELOAD": library, "FAKETIME": "@2027-01-05 10:00:00"])
        #expect(out.status == 0 && out.stdout.hasPrefix("2026-10-08"), "\(out.stdout)\(out.stderr)")
    }

    @Test func idCheckJSONKeepsInputOrderAndExitsOneOnInvalid() async throws {
        let out = try await CLI.run(["id", "check", "--json", "91110000600037341L", "36042619910102009X", "44011320141005001x"] + today)
        #expect(out.status == 1)
        let lines = out.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines.count == 3)
        #expect(lines[0]["input"] as? String == "91110000600037341L")
        #expect(lines[0]["kind"] as? String == "uscc")
        #expect(lines[0]["valid"] as? Bool == true)
        #expect(lines[1]["valid"] as? Bool == false)
        #expect((lines[1]["reason"] as? String)?.contains("'3'") == true)
        #expect(lines[2]["normalized"] as? String == "44011320141005001X")
    }

    /// The unit becomes the provider of every record written with the credential, and the hub
    /// refuses an invalid one: a node that took writes under it would hold records the hub never
    /// will. The code is refused here, with the rule it breaks, and nothing is stored.
    @Test func providerAddRefusesAnInvalidUnitCode() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("node.sqlite").path
        let refused = try await CLI.run(["node", "provider", "add", "--db", db, "--name", "某局", "--unit", "11360400MB1742591X"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("11360400MB1742591X") && refused.stderr.contains("'1'"), "\(refused.stderr)")
        #expect(try await CLI.run(["node", "provider", "list", "--db", db]).stdout.isEmpty)
        let added = try await CLI.run(["node", "provider", "add", "--db", db, "--node", "360400", "--name", "某局", "--unit", "11360400mb17425911"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try await CLI.run(["node", "provider", "list", "--db", db]).stdout.contains("11360400MB17425911"))
    }

    /// Protocol/merge.md §1: a node MUST NOT take a credential for a unit outside its own area
    /// unless its operator says the hub widened it. With `--db` the store does not name its node,
    /// so the command asks for it rather than skip the check.
    @Test func providerAddWithAStoreChecksTheNodesArea() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("node.sqlite").path
        let jiujiang = "11360400MB17425911"
        let unnamed = try await CLI.run(["node", "provider", "add", "--db", db, "--name", "某局", "--unit", jiujiang])
        #expect(unnamed.status != 0 && unnamed.stderr.contains("--node"), "\(unnamed.stderr)")
        let outside = try await CLI.run(["node", "provider", "add", "--db", db, "--node", "360100", "--name", "某局", "--unit", jiujiang])
        #expect(outside.status == 1 && outside.stderr.contains("outside node 360100's area") && !outside.stderr.contains("USAGE"),
                "\(outside.status) \(outside.stderr)")
        #expect(try await CLI.run(["node", "provider", "list", "--db", db]).stdout.isEmpty)
        let widened = try await CLI.run(["node", "provider", "add", "--db", db, "--outside-area", "--name", "某局", "--unit", jiujiang])
        #expect(widened.status == 0, "\(widened.stderr)")
        #expect(try await CLI.run(["node", "provider", "list", "--db", db]).stdout.contains(jiujiang))
    }

    /// A Nagios-style check tells "cannot read the hub" (2, UNKNOWN) from "a window needs
    /// attention" (1).
    @Test func statusExitsTwoWhenTheHubCannotBeRead() async throws {
        // Its token file is missing: refused before the hub is asked.
        let out = try await CLI.run(["status", "--hub", "http://127.0.0.1:\(LoopbackHTTP.freePort())", "--token-file", "/nonexistent/operator.token"])
        #expect(out.status == 2, "\(out.stderr)")
        #expect(out.stderr.contains("operator.token"), "\(out.stderr)")
        // What an operator reads: a URL that is not one, and a port nothing listens on.
        let notURL = try await CLI.run(["status", "--hub", "127.0.0.1:8099"])
        #expect(notURL.status == 2 && notURL.stderr.contains("--hub must be the hub's operator URL, http://HOST:PORT"), "\(notURL.stderr)")
        let port = LoopbackHTTP.freePort()
        let refused = try await CLI.run(["status", "--hub", "http://127.0.0.1:\(port)"])
        #expect(refused.status == 2 && refused.stderr.contains("nothing answers at http://127.0.0.1:\(port) (connection refused): is the hub running"),
                "\(refused.stderr)")
    }

    /// The binary installed without its resource folder says so and stops, on the build machine
    /// too (SwiftPM's accessor fell back to the build directory there, and crashed with a
    /// backtrace anywhere else); with the folder beside it, it runs.
    @Test func aBinaryInstalledWithoutItsResourcesSaysWhatToInstall() async throws {
        let dir = try Fixtures.temporaryDirectory("installed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let installed = dir.appendingPathComponent("creditsync")
        try FileManager.default.copyItem(at: CLI.executable, to: installed)
        let bare = try await ChildProcess.run(installed, ["catalog", "show", "administrative-permit"])
        #expect(bare.status == 1 && bare.stderr.contains("install the folder creditsync_CreditData.resources"), "\(bare.status) \(bare.stderr)")
        let resources = "creditsync_CreditData.resources"
        try FileManager.default.copyItem(at: CLI.executable.deletingLastPathComponent().appendingPathComponent(resources),
                                         to: dir.appendingPathComponent(resources))
        #expect(try await ChildProcess.run(installed, ["catalog", "show", "administrative-permit"]).status == 0)
    }

    @Test func catalogShowListsEachFieldWithItsCodes() async throws {
        let out = try await CLI.run(["catalog", "show", "administrative-permit"])
        #expect(out.status == 0)
        #expect(out.stdout.contains("XK_ZT") && out.stdout.contains("1=有效"))
        #expect(out.stdout.contains("XK_XKWS") && out.stdout.contains("required"))
        let json = try await CLI.run(["catalog", "show", "administrative-permit", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["code"] as? String == "administrative-permit")
        #expect(try await CLI.run(["catalog", "show", "no-such-item"]).status == 1)
    }

    /// A misspelled setting is an error naming it and its line, never ignored (`clientCa` for
    /// `clientCA` had started a hub with TLS but without client verification).
    @Test func checkConfigRefusesUnknownSettingsAndSaysWhere() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Deploy/config/hub.conf.json"), encoding: .utf8)
        let samples = ["hub", "node"].map { Fixtures.repositoryRoot.appendingPathComponent("Deploy/config/\($0).conf.json").path }
        for sample in samples {
            #expect(try await CLI.run(["check-config", "--settings-only", sample]).status == 0)
            // The files a sample names are not there: the daemon would not start, and the check says which.
            let files = try await CLI.run(["check-config", sample])
            #expect(files.status == 1 && files.stderr.contains(".key"), "\(files.stderr)")
        }
        // A setting missing because it is misspelt in case is named as given, with its line.
        let lower = dir.appendingPathComponent("lower.conf.json")
        try sample.replacingOccurrences(of: #""signingKey":"#, with: #""signingkey":"#).write(to: lower, atomically: true, encoding: .utf8)
        let spelt = try await CLI.run(["check-config", "--settings-only", lower.path])
        #expect(spelt.status == 1 && spelt.stderr.contains("unknown setting 'signingkey' on line"), "\(spelt.stderr)")
        let misspelled = dir.appendingPathComponent("hub.conf.json")
        // The sample's clientCA misspelled clientCa, as an operator might.
        #expect(sample.contains(#""clientCA":"#))
        try sample.replacingOccurrences(of: #""clientCA":"#, with: #""clientCa":"#)
            .write(to: misspelled, atomically: true, encoding: .utf8)
        let out = try await CLI.run(["check-config", "--settings-only", misspelled.path])
        #expect(out.status == 1)
        #expect(out.stderr.contains("unknown setting 'tls.clientCa' on line"), "\(out.stderr)")
        // The daemon refuses it the same way.
        #expect(try await CLI.run(["hub", "--config", misspelled.path]).stderr.contains("tls.clientCa"))
        let broken = dir.appendingPathComponent("broken.conf.json")
        try "{\n  \"hub\": {\"id\": \"360000\" \"name\": \"x\"}\n}\n".write(to: broken, atomically: true, encoding: .utf8)
        let syntax = try await CLI.run(["check-config", "--settings-only", broken.path])
        #expect(syntax.status == 1 && syntax.stderr.contains("line 2, column"), "\(syntax.stderr)")
    }

    /// A limit out of its range is refused by check-config, naming the setting, as the node
    /// refuses it at start (check-config had passed what the daemon then refused).
    @Test func checkConfigRefusesLimitsOutOfRange() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Deploy/config/node.conf.json"), encoding: .utf8)
        for (setting, value) in [("concurrentBodies", "4"), ("bodySeconds", "60")] {
            #expect(sample.contains("\"\(setting)\": \(value)"))
        }
        for (setting, given, bad) in [("concurrentBodies", "4", "0"), ("bodySeconds", "60", "-1"), ("maxBatchRecords", "5000", "0")] {
            let file = dir.appendingPathComponent("\(setting).conf.json")
            try sample.replacingOccurrences(of: "\"\(setting)\": \(given)", with: "\"\(setting)\": \(bad)")
                .write(to: file, atomically: true, encoding: .utf8)
            let out = try await CLI.run(["check-config", "--settings-only", file.path])
            #expect(out.status == 1 && out.stderr.contains("limits.\(setting) must be"), "\(setting): \(out.stderr)")
        }
        // The hub's one limit, the same way.
        let hubSample = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Deploy/config/hub.conf.json"), encoding: .utf8)
        #expect(hubSample.contains("\"bodySeconds\": 120"))
        let hubFile = dir.appendingPathComponent("hub.conf.json")
        try hubSample.replacingOccurrences(of: "\"bodySeconds\": 120", with: "\"bodySeconds\": 0").write(to: hubFile, atomically: true, encoding: .utf8)
        let hubOut = try await CLI.run(["check-config", "--settings-only", hubFile.path])
        #expect(hubOut.status == 1 && hubOut.stderr.contains("limits.bodySeconds must be above 0"), "\(hubOut.stderr)")
        // A fraction where a count belongs: Foundation names neither the setting nor the number,
        // and had it said "not valid JSON" with an empty path.
        let fraction = dir.appendingPathComponent("fraction.conf.json")
        try sample.replacingOccurrences(of: "\"concurrentBodies\": 4", with: "\"concurrentBodies\": 1.5")
            .write(to: fraction, atomically: true, encoding: .utf8)
        let out = try await CLI.run(["check-config", "--settings-only", fraction.path])
        #expect(out.status == 1 && out.stderr.contains("a setting holds a value of the wrong kind"), "\(out.stderr)")
    }

    @Test func usageErrorsExitTwo() async throws {
        #expect(try await CLI.run(["id", "check"]).status == 2)
        #expect(try await CLI.run(["id", "check", "--kind", "passport", "x"]).status == 2)
        #expect(try await CLI.run(["calendar", "deadline", "--from", "yesterday", "--working-days", "3"]).status == 2)
        #expect(try await CLI.run(["no-such-command"]).status == 2)
    }

    @Test func calendarDeadlineAcrossNationalDay() async throws {
        let out = try await CLI.run(["calendar", "deadline", "--from", "2026-09-30", "--working-days", "3"])
        #expect(out.status == 0)
        #expect(out.stdout.hasPrefix("2026-10-10"))
        let json = try await CLI.run(["calendar", "deadline", "--from", "2026-12-28", "--working-days", "4", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        #expect(object["due"] as? String == "2027-01-01")
        #expect(object["provisional"] as? Bool == true)
    }

    @Test func calendarShowSaysWhetherPublished() async throws {
        let published = try await CLI.run(["calendar", "show", "2026"])
        #expect(published.stdout.contains("published; 248 working days"))
        #expect(published.stdout.contains("2026-10-10 Sat\tmake-up working day"))
        let missing = try await CLI.run(["calendar", "show", "2027"])
        #expect(missing.stdout.contains("NOT PUBLISHED"))
    }

    @Test func catalogValidateRefusesArticle37Fields() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("city.json")
        try Data("""
        {"format":"creditsync-catalog/1","layer":"city","id":"360100","version":"1","title":"南昌","items":[
          {"code":"health","name":"健康","category":"basic","subjectKinds":["natural-person"],"disclosure":"shared",
           "decisionDateField":"d","fields":[{"name":"d","label":"日期","type":"date","required":true},
           {"name":"history","label":"既往病史","type":"text"}]}]}
        """.utf8).write(to: file)
        let refused = try await CLI.run(["catalog", "validate", file.path])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("Article 37"))
        #expect(try await CLI.run(["catalog", "validate"]).status == 0)
    }

    @Test func recordValidateReportsEveryFieldAndReadsStandardInput() async throws {
        let record = """
        {"item":"administrative-punishment","recordId":"r1","subject":{"kind":"legal-person","name":"某公司","uscc":"91110000600037341N"},
         "fields":{"CF_WSH":"1号","CF_NR_FK":"abc","shoeSize":42}}
        """
        let out = try await CLI.run(["record", "validate", "-"] + today, input: Data(record.utf8))
        #expect(out.status == 1)
        for field in ["subject.uscc", "fields.CF_NR_FK", "fields.shoeSize", "fields.CF_JDRQ", "fields.CF_CFLB"] {
            #expect(out.stdout.contains(field), "no error for \(field) in \(out.stdout)")
        }
        // A key given twice is refused as the node refuses it (Protocol/README.md), not read as
        // one of the two; a byte order mark before a valid file is skipped.
        let twice = try await CLI.run(["record", "validate", "-"] + today, input: Data(#"{"item":"a","item":"b"}"#.utf8))
        #expect(twice.status != 0 && (twice.stdout + twice.stderr).contains("appears twice"), "\(twice.stdout) \(twice.stderr)")
        let valid = try #require(Self.validVectorRecords().first)
        let bom = try await CLI.run(["record", "validate", "-"] + today, input: Data([0xEF, 0xBB, 0xBF]) + JSONSerialization.data(withJSONObject: valid))
        #expect(bom.status == 0, "\(bom.stdout) \(bom.stderr)")
    }

    static func validVectorRecords() throws -> [Any] {
        let vectors = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.protocolFile("vectors/records.json"))) as! [String: Any]
        return (vectors["vectors"] as! [[String: Any]]).filter { ($0["expect"] as! [String: Any])["valid"] as! Bool }.map { $0["record"]! }
    }

    @Test func recordValidateAcceptsTheVectorsValidRecords() async throws {
        let valid = try Self.validVectorRecords()
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("records.json")
        try JSONSerialization.data(withJSONObject: valid).write(to: file)
        let out = try await CLI.run(["record", "validate", "--json", file.path] + today)
        #expect(out.status == 0, "\(out.stdout)")
        #expect(out.stdout.split(separator: "\n").count == valid.count)
    }

    /// The record example in Protocol/records.md is complete and valid as written.
    @Test func theRecordsExampleInTheProtocolIsValid() async throws {
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Protocol/records.md"), encoding: .utf8)
        let start = try #require(text.range(of: "```json\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let dir = try Fixtures.temporaryDirectory("example")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("example.json")
        try Data(text[start.upperBound..<end.lowerBound].utf8).write(to: file)
        let out = try await CLI.run(["record", "validate", file.path])
        #expect(out.status == 0 && out.stdout.contains("1 of 1 valid"), "\(out.stdout)\(out.stderr)")
    }

    @Test func demoCheckBringsUpTheFederationAndConverges() async throws {
        let dir = try Fixtures.temporaryDirectory("demo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try await CLI.run(["demo", "--check", "--records", "20", "--dir", dir.appendingPathComponent("data").path,
                               "--port", String(LoopbackHTTP.freePortRange(13))])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("all 11 nodes hold exactly the hub's 220 records"))
        #expect(out.stdout.contains("fix-copies/met=8"))
        // One line compares any node with the hub.
        let data = dir.appendingPathComponent("data")
        let hub = try await CLI.run(["digest", "--db", data.appendingPathComponent("hub/hub.sqlite").path, "--json"])
        #expect(hub.status == 0, "\(hub.stderr)")
        let hubDigest = try #require(try JSONSerialization.jsonObject(with: Data(hub.stdout.utf8)) as? [String: Any])
        #expect(hubDigest["records"] as? Int == 220)
        for node in ["360100", "361100"] {
            let out = try await CLI.run(["digest", "--db", data.appendingPathComponent("nodes/\(node)/node.sqlite").path, "--json"])
            let digest = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
            #expect(digest["digest"] as? String == hubDigest["digest"] as? String, "node \(node)")
        }
        #expect(try await CLI.run(["digest", "--db", data.appendingPathComponent("nowhere.sqlite").path]).status == 1)
    }

    @Test func keygenWritesAnOwnerOnlyKeyAndNeverOverwrites() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("node.key").path
        let out = try await CLI.run(["keygen", "--out", path, "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as! [String: Any]
        #expect((object["keyId"] as? String)?.count == 32)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(FileManager.default.fileExists(atPath: path + ".pub"))
        let again = try await CLI.run(["keygen", "--out", path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))
    }
}
