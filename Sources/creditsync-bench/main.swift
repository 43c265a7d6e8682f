// Micro-benchmarks. Not tests: they print rates, each beside a baseline measured in the same run,
// because this machine is noisy and absolute figures mean little on their own.
//
//   swift run -c release creditsync-bench sync [changes]
//   swift run -c release creditsync-bench records [records]
//   swift run -c release creditsync-bench node [records] [batch] [clients]
//   swift run -c release creditsync-bench hub [changes] [--concurrent-only]
//   swift build -c release && .build/release/creditsync-bench e2e [--records N] [--nodes K] [--peer-postgres] …
import CreditCore
import CreditData
import Foundation
import SyncProtocol

/// Runs `body` (which does `work` units) a few times and returns the best rate in units/second.
func rate(_ label: String, work: Int, repeats: Int = 3, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        best = min(best, seconds)
    }
    return Double(work) / best
}

func report(_ rows: [(String, Double)], baseline: (String, Double)) {
    func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return left ? fill + s : s + fill
    }
    print("  " + pad("measure", 46) + pad("per second", 14, left: true) + pad("× baseline", 12, left: true))
    for (label, value) in [baseline] + rows {
        print("  " + pad(label, 46) + pad(String(Int(value.rounded())), 14, left: true)
              + pad(String(format: "%.3f", value / baseline.1), 12, left: true))
    }
}

/// Realistic changes: synthetic punishment records as the node would log them.
func sampleChanges(_ count: Int) -> [Change] {
    var generator = SyntheticRecords(division: "360100")
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let date = CivilDate(year: 2026, month: 6, day: 1)!
    let payloads = (0..<64).map { i in Array(try! encoder.encode(generator.punishment(i, decidedOn: date))) }
    return (0..<count).map { i in
        Change(node: "360100", sequence: UInt64(i + 1),
               key: RecordKey(provider: generator.regulatorCode, item: "administrative-punishment", recordId: "CF-360100-2026-\(i)"),
               operation: i % 10 == 9 ? .correct : .create, credential: "cred-0001",
               reason: i % 10 == 9 ? "复议撤销" : "", decisionDocument: i % 10 == 9 ? "洪复决〔2026〕1号" : "",
               effectiveAt: 1_790_000_000_000 + UInt64(i), acceptedAt: 1_790_000_000_500 + UInt64(i),
               catalogVersion: "national@2026.1+jiangxi@2026.1", payload: payloads[i % payloads.count])
    }
}

func syncBenchmark(changes count: Int) throws {
    print("sync protocol, \(count) changes (release build expected)")
    let changes = sampleChanges(count)
    let encoded = changes.map(\.encoded)
    let bytes = encoded.reduce(0) { $0 + $1.count }
    print("  average encoded change: \(bytes / count) bytes")
    let key = try SigningKey(seed: Array(repeating: 7, count: 32))
    var keys = KeyRegistry()
    try keys.enroll(key.publicKey, for: "360100")
    let setSize = 1000
    var sink = 0

    let baseline = rate("SHA-256 of each change (baseline)", work: count) {
        for e in encoded { sink &+= Int(Hash32.sha256(e).bytes[0]) }
    }
    let encode = rate("encode change", work: count) { for c in changes { sink &+= c.encoded.count } }
    let decode = rate("decode change", work: count) { for e in encoded { sink &+= Int(try! Change(decoding: e).sequence) } }
    let append = rate("Merkle append (leaf hash + tree)", work: count) {
        var tree = MerkleTree()
        for e in encoded { tree.append(leafData: e) }
        sink &+= Int(tree.size)
    }
    // Change sets of 1,000 changes, as the pusher makes them.
    var envelopes: [[UInt8]] = []
    var frontier = MerkleFrontier()
    var sets: [ChangeSet] = []
    for start in stride(from: 0, to: count, by: setSize) {
        let set = try ChangeSet(node: "360100", keyId: key.keyId, encodedChanges: Array(encoded[start..<min(start + setSize, count)]),
                                before: frontier, createdAt: 1_790_000_000_000)
        frontier = try set.extend(frontier)
        sets.append(set)
        envelopes.append(try set.signed(with: key).encoded)
    }
    let signatures = 200
    // A whole set's signature: its signing input (the body's SHA-256 in DSSE's encoding) and Ed25519.
    let body = sets[0].body
    func input() -> [UInt8] { Envelope.signingInput(type: Envelope.PayloadType.changeSet, payload: body) }
    let small = Envelope.pae(type: Envelope.PayloadType.treeHead, body: Array(repeating: 1, count: 100))
    let smallSig = try key.sign(small)
    let signSmall = try rate("Ed25519 sign, 100-byte message", work: signatures * 10) {
        for _ in 0..<signatures * 10 { sink &+= Int(try key.sign(small)[0]) }
    }
    let verifySmall = rate("Ed25519 verify, 100-byte message", work: signatures * 10) {
        for _ in 0..<signatures * 10 { sink &+= key.publicKey.verify(signature: smallSig, for: small) ? 1 : 0 }
    }
    let sign = try rate("Ed25519 sign (per signature)", work: signatures) {
        for _ in 0..<signatures { sink &+= Int(try key.sign(input())[0]) }
    }
    let sig = try key.sign(input())
    let verify = rate("Ed25519 verify (per signature)", work: signatures) {
        for _ in 0..<signatures { sink &+= key.publicKey.verify(signature: sig, for: input()) ? 1 : 0 }
    }
    let open = try rate("open change set: verify + decode (per change)", work: count) {
        for e in envelopes { sink &+= try ChangeSet.open(e, keys: keys).changeSet.changes.count }
    }
    let full = try rate("open + check tree heads (per change)", work: count) {
        var f = MerkleFrontier()
        for e in envelopes { f = try ChangeSet.open(e, keys: keys).changeSet.extend(f) }
        sink &+= Int(f.size)
    }
    report([("encode change", encode), ("decode change", decode), ("Merkle append (leaf hash + tree)", append),
            ("Ed25519 sign, 100-byte message", signSmall), ("Ed25519 verify, 100-byte message", verifySmall),
            ("Ed25519 sign, 1,000-change set (sets)", sign), ("Ed25519 verify, 1,000-change set (sets)", verify),
            ("open change set: verify + decode (changes)", open), ("open + check tree heads (changes)", full)],
           baseline: ("SHA-256 of each change (baseline)", baseline))
    print("  target: the hub applies ≥ 100,000 changes/s, so open + check must be far above that")
    if sink == 42 { print("") }
}

/// The node's per-record work without HTTP or SQLite: parsing, validation, canonical encoding,
/// each on one core, beside SHA-256 of the same bytes.
func recordsBenchmark(records count: Int) throws {
    print("record handling on one core, \(count) synthetic punishment records")
    var generator = SyntheticRecords(division: "360100")
    let date = CivilDate(year: 2026, month: 6, day: 1)!
    let texts = (0..<count).map { Array(generator.punishment($0, decidedOn: date).jsonValue.serialized.utf8) }
    let validator = try ReferenceData.load().validator(today: CivilDate(year: 2026, month: 11, day: 27)!)
    var sink = 0
    let baseline = rate("SHA-256 of each record's JSON (baseline)", work: count) { for t in texts { sink &+= Int(Hash32.sha256(t).bytes[0]) } }
    let values = try texts.map { try JSONValue.parse($0) }
    let parse = try rate("parse JSON", work: count) { for t in texts { if case .object = try JSONValue.parse(t) { sink &+= 1 } } }
    let validate = rate("validate against the catalog, with canonical JSON", work: count) { for v in values { sink &+= validator.validate(v).accepted == nil ? 0 : 1 } }
    let accepted = values.compactMap { validator.validate($0).accepted }
    guard accepted.count == count else { print("  only \(accepted.count) of \(count) valid!"); return }
    let encode = rate("canonical JSON of a record, general writer", work: count) { for a in accepted { sink &+= a.record.canonicalJSON.count } }
    let both = rate("validate, concurrentMap over the cores", work: count) {
        for start in stride(from: 0, to: count, by: 1000) {
            sink &+= Array(values[start..<min(count, start + 1000)]).concurrentMap { v in validator.validate(v).accepted?.canonicalJSON.count ?? 0 }.count
        }
    }
    report([("parse JSON", parse), ("validate, with canonical JSON", validate), ("canonical JSON, general writer", encode),
            ("validate on every core, batches of 1,000", both)],
           baseline: ("SHA-256 of each record's JSON (baseline)", baseline))
    if sink == 42 { print("") }
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "sync", nil:
    try syncBenchmark(changes: arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000)
case "node":
    let rest = Array(arguments.dropFirst())
    try await nodeBenchmark(records: rest.first.flatMap { Int($0) } ?? 50_000, batch: rest.dropFirst().first.flatMap { Int($0) } ?? 1000,
                            clients: rest.dropFirst(2).first.flatMap { Int($0) } ?? 4)
case "records":
    try recordsBenchmark(records: arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000)
case "e2e":
    do { try await e2eBenchmark(E2EOptions(Array(arguments.dropFirst()))) } catch let usage as BenchUsage {
        print("creditsync-bench e2e: \(usage)")
        print("usage: creditsync-bench e2e [--records N] [--nodes K] [--batch B] [--uploaders U] [--peer-postgres]")
        print("       [--lag-rate R] [--lag-seconds S] [--writers W] [--catch-up N] [--base-port P] [--poll-ms MS] [--keep]")
        exit(2)
    } catch {
        // The daemons were stopped on the way out; --keep leaves their logs (a daemon that did not
        // answer says why there), and another --base-port avoids ports something else holds.
        print("creditsync-bench e2e: failed: \(error) (rerun with --keep to read the daemons' logs)")
        exit(1)
    }
case "hub":
    let rest = Array(arguments.dropFirst())
    try await hubBenchmark(changes: rest.first.flatMap { Int($0) } ?? 110_000, serial: !rest.contains("--concurrent-only"))
default:
    print("usage: creditsync-bench sync [changes] | records [records] | node [records] [batch] [clients] | hub [changes] [--concurrent-only] | e2e [options]")
    exit(2)
}
