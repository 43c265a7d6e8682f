import CreditCore
import CreditData
import Foundation

/// The peer a database team would pick instead: PostgreSQL logical replication (Debian's
/// `postgresql`), publisher → one subscriber, both with their defaults (fsync and synchronous
/// commit on), in a temporary directory, loaded with the same records as creditsync by as many
/// `psql` clients, in transactions of the same size. The rate is rows over the time from the first
/// insert until the subscriber has confirmed everything the publisher wrote.
enum PostgresPeer {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// The directory holding `initdb`, `pg_ctl` and `psql`.
    static func binaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).compactMap(Int.init).sorted()
        guard let version = versions.last else {
            throw Failure(description: "PostgreSQL is not installed: apt-get install postgresql (the peer is measured with Debian's server)")
        }
        return root.appendingPathComponent("\(version)/bin")
    }

    /// Runs a PostgreSQL program as the `postgres` user when this process is root (the server
    /// refuses to run as root), and returns its standard output.
    ///
    /// Through bash, which first closes every descriptor above 2: the server that `pg_ctl start`
    /// leaves running would inherit them, and Foundation's `Process` waits on one of its own.
    @discardableResult
    static func run(_ bin: URL, _ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        let path = bin.appendingPathComponent(program).path
        let command = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#, "bash"] + command
        // Output goes to files, not pipes: the server `pg_ctl start` leaves running inherits them,
        // and a pipe would never reach its end.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("creditsync-pg-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: capture.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: capture.path + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: capture.path + ".out")
            try? FileManager.default.removeItem(atPath: capture.path + ".err")
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: capture.path + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: capture.path + ".err"))
        try process.run()
        process.waitUntilExit()
        let stdout = (try? Data(contentsOf: URL(fileURLWithPath: capture.path + ".out"))) ?? Data()
        let stderr = (try? Data(contentsOf: URL(fileURLWithPath: capture.path + ".err"))) ?? Data()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(program) \(arguments.prefix(4).joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self).prefix(800))")
        }
        return String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Rows per second, end to end.
    static func measure(rows: Int, batch: Int, clients: Int, directory: URL, basePort: Int) async throws -> Double {
        let bin = try binaries()
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try fm.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory.path) }
        let (publisher, subscriber) = (basePort, basePort + 1)
        @discardableResult
        func sql(_ port: Int, _ statement: String) throws -> String {
            try run(bin, "psql", ["-h", directory.path, "-p", String(port), "-U", "postgres", "-d", "postgres", "-Atqc", statement])
        }
        var started: [String] = []
        defer { for data in started { _ = try? run(bin, "pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]) } }
        for (name, port) in [("publisher", publisher), ("subscriber", subscriber)] {
            let data = directory.appendingPathComponent(name).path
            try run(bin, "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"])
            try run(bin, "pg_ctl", ["-D", data, "-l", "\(data).log", "-w", "-o",
                                    "-p \(port) -k \(directory.path) -c listen_addresses='' -c wal_level=logical -c shared_buffers=256MB -c max_wal_size=4GB",
                                    "start"])
            started.append(data)
            try sql(port, "CREATE TABLE r (record_key text PRIMARY KEY, subject_key text NOT NULL, payload text NOT NULL)")
        }
        try sql(publisher, "CREATE PUBLICATION p FOR TABLE r")
        try sql(subscriber, "CREATE SUBSCRIPTION s CONNECTION 'host=\(directory.path) port=\(publisher) user=postgres dbname=postgres' PUBLICATION p")
        for _ in 0..<600 where try sql(subscriber, "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'") != "0" {
            try await Task.sleep(for: .milliseconds(100))
        }

        // The same records as creditsync's load, one SQL file per client, `batch` rows per transaction.
        var generator = SyntheticRecords(division: "360100")
        let decided = CivilDate(year: 2026, month: 6, day: 1)!
        let unit = generator.regulatorCode
        var files: [String] = []
        for client in 0..<clients {
            var text = ""
            var transactionStart = client * batch
            while transactionStart < rows {
                let values = (transactionStart..<min(transactionStart + batch, rows)).map { i -> String in
                    let record = generator.punishment(i, decidedOn: decided)
                    let payload = record.jsonValue.serialized.replacingOccurrences(of: "'", with: "''")
                    return "('\(unit)/\(record.item)/\(record.recordId)','\(record.subject.key)','\(payload)')"
                }
                text += "BEGIN;\nINSERT INTO r VALUES \(values.joined(separator: ",\n"));\nCOMMIT;\n"
                transactionStart += batch * clients
            }
            let file = directory.appendingPathComponent("load-\(client).sql")
            try Data(text.utf8).write(to: file)
            if getuid() == 0 { try fm.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: file.path) }
            files.append(file.path)
        }

        let start = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for file in files {
                group.addTask {
                    try run(bin, "psql", ["-h", directory.path, "-p", String(publisher), "-U", "postgres", "-d", "postgres", "-q",
                                          "-v", "ON_ERROR_STOP=1", "-f", file])
                }
            }
            try await group.waitForAll()
        }
        let written = try sql(publisher, "SELECT pg_current_wal_lsn()")
        while try sql(publisher, "SELECT confirmed_flush_lsn >= '\(written)'::pg_lsn FROM pg_replication_slots WHERE slot_name = 's'") != "t" {
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = Date().timeIntervalSince(start)
        let copied = try sql(subscriber, "SELECT count(*) FROM r")
        guard copied == String(rows) else { throw Failure(description: "the subscriber holds \(copied) rows of \(rows)") }
        return Double(rows) / seconds
    }
}
