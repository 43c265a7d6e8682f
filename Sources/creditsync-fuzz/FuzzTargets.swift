import CreditCore
import CreditData
import Foundation
import SyncProtocol

/// Every parser that takes bytes from outside, as libFuzzer targets (README, "Fuzzing"). Each
/// target checks properties, not only that nothing crashes: what parses must serialize back and
/// parse to the same value, and a binary message that decodes must encode to the same bytes
/// (the wire format has one encoding per value).
///
/// Built with `swift build --product creditsync-fuzz -Xswiftc -sanitize=fuzzer,address
/// -Xswiftc -DFUZZING`, the binary is a libFuzzer driver and `CREDITSYNC_FUZZ` picks the target.
/// Built plainly (as CI does), it replays files through a target: `creditsync-fuzz TARGET FILE…`.
enum FuzzTarget: String, CaseIterable {
    /// The JSON parser, its batch counter, and canonical serialization.
    case json
    /// Text decoding (UTF-8 or GB18030) and the double-publicity CSV reader.
    case csv
    /// A provider's record through the catalog validator and canonical form.
    case record
    /// Every binary decoder of the sync protocol.
    case wire

    func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .csv: Self.csv(bytes)
        case .record: Self.record(bytes)
        case .wire: Self.wire(bytes)
        }
    }

    static func json(_ bytes: [UInt8]) {
        let count = JSONValue.batchCount(bytes)
        guard let value = try? JSONValue.parse(bytes) else { return }
        // The batch bound counts a batch's records exactly (1 for an empty one), never fewer.
        switch value {
        case let .array(items): check(count == max(items.count, 1), "batchCount \(count) for an array of \(items.count)")
        case let .object(members):
            if case let .array(records)? = members["records"] { check(count >= records.count, "batchCount \(count) for \(records.count) records") }
        default: check(count == 1, "batchCount \(count) for a single value")
        }
        let again = try? JSONValue.parse(value.serializedBytes)
        check(again == value, "serialized JSON does not parse back to the same value")
    }

    static func csv(_ bytes: [UInt8]) {
        for charset in [nil, "gb18030"] as [String?] {
            guard let text = try? TextDecoding.decode(bytes, charset: charset) else { continue }
            _ = try? CSV.parse(text)
            _ = try? DoublePublicityCSV.rows(text)
        }
    }

    static let validator = (try! ReferenceData.load()).validator(today: CivilDate(year: 2026, month: 11, day: 30)!)

    static func record(_ bytes: [UInt8]) {
        guard let value = try? JSONValue.parse(bytes) else { return }
        guard let accepted = validator.validate(value).accepted else { return }
        // What was accepted is canonical: validating its canonical form accepts it unchanged.
        guard let canonical = try? JSONValue.parse(accepted.canonicalJSON) else { fail("an accepted record's canonical JSON does not parse") }
        check(validator.validate(canonical).accepted?.canonicalJSON == accepted.canonicalJSON,
              "an accepted record's canonical form is not accepted as itself")
    }

    static func wire(_ bytes: [UInt8]) {
        if let envelope = try? Envelope(decoding: bytes) { check(envelope.encoded == bytes, "envelope re-encodes differently") }
        if let change = try? Change(decoding: bytes) { check(change.encoded == bytes, "change re-encodes differently") }
        if let set = try? ChangeSet(decodingBody: bytes) { check(set.body == bytes, "change set re-encodes differently") }
        if let batch = try? FanOutBatch(decodingBody: bytes) { check(batch.body == bytes, "fan-out batch re-encodes differently") }
        if let receipt = try? Receipt(decodingBody: bytes) { check(receipt.body == bytes, "receipt re-encodes differently") }
        if let head = try? SignedTreeHead(decodingBody: bytes) { check(head.body == bytes, "tree head re-encodes differently") }
        if let frontier = try? MerkleFrontier(encoded: bytes) { check(frontier.encoded == bytes, "frontier re-encodes differently") }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fail(message()) }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("property violated: \(message)\n".utf8))
        abort()
    }
}

#if FUZZING
let selected: FuzzTarget = {
    guard let name = ProcessInfo.processInfo.environment["CREDITSYNC_FUZZ"], let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set CREDITSYNC_FUZZ to one of \(FuzzTarget.allCases.map(\.rawValue))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    selected.run(bytes)
    return 0
}

/// libFuzzer's driver, for an executable whose `main` is not libFuzzer's own.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`: here it starts libFuzzer's driver.
@_cdecl("creditsync_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { start, size in fuzzOneInput(start, size) }
}
#else
/// Replays inputs through a target: `creditsync-fuzz TARGET FILE…` (a crash libFuzzer saved, or a corpus).
@main struct FuzzReplay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: creditsync-fuzz {\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))} FILE…")
            exit(2)
        }
        for path in arguments.dropFirst() {
            target.run(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        print("\(arguments.count - 1) inputs replayed through \(name): no property violated")
    }
}
#endif
