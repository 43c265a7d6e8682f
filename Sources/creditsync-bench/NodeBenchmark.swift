import AsyncHTTPClient
import CreditCore
import CreditData
import CreditNode
import Foundation
import GRDB
import Hummingbird
import Logging
import NIOCore

/// Batch ingest through the node's HTTP API (validation, idempotency check, log, Merkle
/// frontier, history, subject index, fsync per batch) beside raw SQLite inserts of the same
/// rows in the same batches.
func nodeBenchmark(records count: Int, batch: Int, clients: Int) async throws {
    print("node ingest through the HTTP API, \(count) records in batches of \(batch)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("creditsync-bench-\(UUID().uuidString.prefix(6))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }

    var generator = SyntheticRecords(division: "360100")
    let date = CivilDate(year: 2026, month: 6, day: 1)!
    let recordsList = (0..<count).map { generator.punishment($0, decidedOn: date) }
    let bodies = stride(from: 0, to: count, by: batch).map { try! JSONEncoder().encode(Array(recordsList[$0..<min($0 + batch, count)])) }

    // Baseline: the same rows, inserted raw with prepared statements, one transaction per batch.
    let raw = try DatabasePool(path: dir.appendingPathComponent("raw.sqlite").path)
    try await raw.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
    try await raw.write { try $0.execute(sql: "CREATE TABLE r(record_key TEXT PRIMARY KEY, subject_key TEXT, payload TEXT)") }
    let payloads = recordsList.map { r in (("\(generator.regulatorCode)/\(r.item)/\(r.recordId)"), r.subject.key, String(decoding: try! JSONEncoder().encode(r), as: UTF8.self)) }
    let rawStart = ContinuousClock.now
    for start in stride(from: 0, to: count, by: batch) {
        try await raw.write { db in
            let s = try db.cachedStatement(sql: "INSERT INTO r VALUES (?, ?, ?)")
            for p in payloads[start..<min(start + batch, count)] { try s.execute(arguments: [p.0, p.1, p.2]) }
        }
    }
    let rawRate = Double(count) / seconds(ContinuousClock.now - rawStart)

    // The store alone: the same records validated beforehand, written in the same batches (the
    // single writer's own limit, without HTTP, parsing or validation).
    let validator = try ReferenceData.load().validator(today: CivilDate(year: 2026, month: 11, day: 27)!)
    let prepared = recordsList.map {
        PreparedWrite(validator.validate($0).accepted!, provider: generator.regulatorCode, operation: .create, effectiveAt: 1_780_000_000_000)
    }
    let store = try NodeStore(path: dir.appendingPathComponent("node-0.sqlite").path)
    let storeStart = ContinuousClock.now
    for start in stride(from: 0, to: count, by: batch) {
        _ = try await store.write(Array(prepared[start..<min(start + batch, count)]), node: "360100", credential: "bench",
                                  catalogVersion: validator.catalog.version, acceptedAt: 1_780_000_000_000)
    }
    let storeRate = Double(count) / seconds(ContinuousClock.now - storeStart)

    // The node, in process, on a loopback port: one clerk uploading, then four at once (each
    // run on a fresh store).
    let one = try await ingestThroughAPI(store: dir.appendingPathComponent("node-1.sqlite").path, unit: generator.regulatorCode,
                                         bodies: bodies, batch: batch, clients: 1)
    let many = try await ingestThroughAPI(store: dir.appendingPathComponent("node-many.sqlite").path, unit: generator.regulatorCode,
                                           bodies: bodies, batch: batch, clients: clients)
    guard one.accepted == count, many.accepted == count else { print("  only \(one.accepted), \(many.accepted) of \(count) accepted!"); return }
    report([("store alone, records validated before", storeRate),
            ("HTTP batch ingest, one client (records)", one.rate), ("HTTP batch ingest, \(clients) clients (records)", many.rate)],
           baseline: ("raw SQLite insert of the same rows (baseline)", rawRate))
    print("  target: ≥ 50,000 records/s through the HTTP API")
}

/// Posts `bodies` to a node on a fresh store from `clients` concurrent uploaders; the records
/// accepted and the rate.
func ingestThroughAPI(store path: String, unit: String, bodies: [Data], batch: Int, clients: Int) async throws -> (accepted: Int, rate: Double) {
    let store = try NodeStore(path: path)
    let service = NodeService(node: "360100", store: store, reference: try ReferenceData.load(),
                              limits: .init(maxBodyBytes: 64 << 20, maxBatchRecords: max(batch, 5000)))
    let token = try store.addCredential(name: "bench", unit: try UnifiedSocialCreditCode.parse(unit), writeItems: nil, readScope: .own, at: Date()).token
    let router = ProviderAPI.router(service: service)
    let port = Int.random(in: 30_000...60_000)
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    let server = Task { try await app.runService() }
    defer { server.cancel() }
    try await Task.sleep(for: .milliseconds(500))

    let cpuStart = cpuSeconds()
    let writtenStart = bytesWritten()
    let start = ContinuousClock.now
    let accepted = try await withThrowingTaskGroup(of: Int.self) { group in
        for client in 0..<clients {
            let mine = stride(from: client, to: bodies.count, by: clients).map { bodies[$0] }
            group.addTask {
                var accepted = 0
                for body in mine {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/records")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(bytes: body))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
                    let reply = try await response.body.collect(upTo: 64 << 20)
                    if case let .object(json)? = try? JSONValue.parse(Array(buffer: reply), keeping: JSONProjection(paths: ["accepted"])),
                       case let .number(n)? = json["accepted"] { accepted += Int(n) ?? 0 }
                }
                return accepted
            }
        }
        return try await group.reduce(0, +)
    }
    let wall = seconds(ContinuousClock.now - start)
    print("  \(clients) client\(clients == 1 ? "" : "s"): CPU per record \(Int((cpuSeconds() - cpuStart) / Double(max(1, accepted)) * 1e6)) µs "
          + "(server and client in this process), \((bytesWritten() - writtenStart) / max(1, accepted)) bytes written per record, "
          + "over \(String(format: "%.2f", wall)) s wall")
    return (accepted, Double(accepted) / wall)
}

/// Merging signed change sets at the hub (signature, continuity, tree heads, evidence, merge,
/// receipt) beside raw SQLite inserts of the same change rows.
func hubBenchmark(changes count: Int, serial: Bool = true) async throws {
    print("hub merge of signed change sets, \(count) changes from 11 nodes in sets of 1,000")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("creditsync-bench-\(UUID().uuidString.prefix(6))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let nodes = SyntheticRecords.cities.map(\.code)
    let keys = try nodes.map { try SigningKey(seed: Array(Hash32.sha256(Array($0.utf8)).bytes)) }
    let hubKey = SigningKey()
    let perNode = count / nodes.count
    var sets: [(String, [UInt8])] = []
    var rows: [(String, Int64, String, [UInt8])] = []
    let date = CivilDate(year: 2026, month: 6, day: 1)!
    for (n, node) in nodes.enumerated() {
        // Every change a record of its own company, as in the field: the subject index gets a
        // new key for nearly every change, not a few hot ones.
        var generator = SyntheticRecords(division: node)
        var frontier = MerkleFrontier()
        let encoded = (0..<perNode).map { i -> [UInt8] in
            // One change in ten corrects a record five changes back (a new version of it).
            let correction = i % 10 == 9
            var record = generator.punishment(correction ? i - 5 : i, decidedOn: date)
            if correction { record.fields["CF_SY"] = .string("经复议更正。") }
            let change = Change(node: node, sequence: UInt64(i + 1),
                                key: RecordKey(provider: generator.regulatorCode, item: record.item, recordId: record.recordId),
                                operation: correction ? .correct : .create, credential: "cred-0001",
                                reason: correction ? "复议撤销" : "", decisionDocument: correction ? "洪复决〔2026〕1号" : "",
                                effectiveAt: 1_790_000_000_000 + UInt64(i), acceptedAt: 1_790_000_000_500 + UInt64(i),
                                catalogVersion: "national@2026.1+jiangxi@2026.1", payload: Array(record.jsonValue.serialized.utf8))
            rows.append((node, Int64(change.sequence), change.key.description, change.encoded))
            return change.encoded
        }
        for start in stride(from: 0, to: encoded.count, by: 1000) {
            let set = try ChangeSet(node: node, keyId: keys[n].keyId, encodedChanges: Array(encoded[start..<min(start + 1000, encoded.count)]),
                                    before: frontier, createdAt: 1)
            frontier = try set.extend(frontier)
            sets.append((node, try set.signed(with: keys[n]).encoded))
        }
    }
    // Interleave the nodes' sets as they would arrive.
    let perNodeSets = sets.count / nodes.count
    let ordered = (0..<perNodeSets).flatMap { i in (0..<nodes.count).map { sets[$0 * perNodeSets + i] } }
    let total = perNode * nodes.count

    let raw = try DatabasePool(path: dir.appendingPathComponent("raw.sqlite").path)
    try await raw.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
    try await raw.write { try $0.execute(sql: "CREATE TABLE c(node TEXT, sequence INTEGER, record_key TEXT, change BLOB, PRIMARY KEY(node, sequence))") }
    let rawStart = ContinuousClock.now
    let allRows = rows
    for start in stride(from: 0, to: allRows.count, by: 1000) {
        try await raw.write { db in
            let s = try db.cachedStatement(sql: "INSERT INTO c VALUES (?, ?, ?, ?)")
            for r in allRows[start..<min(start + 1000, allRows.count)] { try s.execute(arguments: [r.0, r.1, r.2, Data(r.3)]) }
        }
    }
    let rawRate = Double(total) / seconds(ContinuousClock.now - rawStart)

    // What the hub does to a set before its writer: verify, decode and prepare, on one core.
    var keyRegistry = KeyRegistry()
    for (n, node) in nodes.enumerated() { try keyRegistry.enroll(keys[n].publicKey, for: node) }
    let registry = keyRegistry
    let validator = ChangeValidator(reference: try ReferenceData.load(), now: Date())
    var prepared = 0
    let prepareRate = try rate("verify + decode + prepare on one core", work: total, repeats: 2) {
        for (_, envelope) in ordered { prepared &+= PreparedSet(try ChangeSet.open(envelope, keys: registry).changeSet, envelope: envelope, validator: validator).entries.count }
    }

    // The hub as it runs: the 11 nodes push concurrently, each its own sets in order.
    let store = try HubStore(path: dir.appendingPathComponent("hub.sqlite").path)
    for (n, node) in nodes.enumerated() { try store.addNode(id: node, name: node, key: keys[n].publicKey, at: Date()) }
    let hub = try CreditHub.HubService(store: store, key: hubKey, reference: try ReferenceData.load())
    let cpuStart = cpuSeconds()
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for node in nodes {
            let mine = ordered.filter { $0.0 == node }.map(\.1)
            group.addTask { for envelope in mine { _ = try await hub.ingest(node: node, envelope: envelope) } }
        }
        try await group.waitForAll()
    }
    let mergeRate = Double(total) / seconds(ContinuousClock.now - start)
    print("  CPU per change: \(Int((cpuSeconds() - cpuStart) / Double(total) * 1e6)) µs over \(String(format: "%.2f", seconds(ContinuousClock.now - start))) s wall")
    guard try store.hubHead().size == UInt64(total) else { print("  the hub log does not hold every change!"); return }

    // The writer alone: every set prepared beforehand, then offered by the 11 nodes at once.
    let writerStore = try HubStore(path: dir.appendingPathComponent("hub-writer.sqlite").path)
    for (n, node) in nodes.enumerated() { try writerStore.addNode(id: node, name: node, key: keys[n].publicKey, at: Date()) }
    let preparedSets = try ordered.map { (node, envelope) in (node, PreparedSet(try ChangeSet.open(envelope, keys: registry).changeSet, envelope: envelope, validator: validator)) }
    let writerStart = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for node in nodes {
            let mine = preparedSets.filter { $0.0 == node }.map(\.1)
            group.addTask { for set in mine { _ = try await writerStore.ingest(set, hub: "hub", key: hubKey, receivedAt: Date()) } }
        }
        try await group.waitForAll()
    }
    let writerRate = Double(total) / seconds(ContinuousClock.now - writerStart)

    var results = [("verify + merge, 11 nodes pushing at once", mergeRate), ("verify + decode + prepare on one core", prepareRate),
                ("merge alone on the writer (sets prepared before)", writerRate)]
    if serial {
        // The same sets one at a time, for comparison: no overlap of preparation and writing.
        let serialStore = try HubStore(path: dir.appendingPathComponent("hub-serial.sqlite").path)
        for (n, node) in nodes.enumerated() { try serialStore.addNode(id: node, name: node, key: keys[n].publicKey, at: Date()) }
        let serialHub = try CreditHub.HubService(store: serialStore, key: hubKey, reference: try ReferenceData.load())
        let serialStart = ContinuousClock.now
        for (node, envelope) in ordered { _ = try await serialHub.ingest(node: node, envelope: envelope) }
        results.insert(("verify + merge, one set at a time", Double(total) / seconds(ContinuousClock.now - serialStart)), at: 1)
    }
    report(results, baseline: ("raw SQLite insert of the same rows (baseline)", rawRate))
    print("  target: ≥ 100,000 changes/s")
}

/// User and system CPU time of the process so far, in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Bytes this process has handed to `write` and `pwrite` so far (`wchar` in /proc/self/io):
/// what the store writes, log and checkpoints together.
func bytesWritten() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("wchar:") }) else { return 0 }
    return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

import CreditHub
import SyncProtocol
