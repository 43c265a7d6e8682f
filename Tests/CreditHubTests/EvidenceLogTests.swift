@testable import CreditHub
import Foundation
import SyncProtocol
import Testing

/// The evidence file: appended sets read back, bytes no row references cut off at the next
/// open, and a file shorter than the store references refused.
@Suite struct EvidenceLogTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("evidence-\(UUID().uuidString)").path
    }

    @Test func appendsConcurrentlyAndReadsBack() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try EvidenceLog(path: path, referencedEnd: nil)
        let sets = (0..<20).map { i in [UInt8](repeating: UInt8(i), count: 1000 + i) }
        let locations = try await withThrowingTaskGroup(of: (Int, EvidenceLog.Location).self) { group in
            for (i, set) in sets.enumerated() { group.addTask { (i, try await log.append(set)) } }
            return try await group.reduce(into: [Int: EvidenceLog.Location]()) { $0[$1.0] = $1.1 }
        }
        for (i, set) in sets.enumerated() { #expect(try log.read(try #require(locations[i])) == set) }
        // No two sets overlap, and none overwrites the header.
        let ranges = locations.values.sorted { $0.offset < $1.offset }
        #expect(ranges.first!.offset == Int64(EvidenceLog.header.count))
        for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.end == b.offset) }
    }

    @Test func aReadIsCheckedAgainstTheRecordedDigest() async throws {
        let log = try EvidenceLog(path: nil, referencedEnd: nil)
        let set = [UInt8](repeating: 7, count: 500)
        let location = try await log.append(set)
        #expect(try log.read(location, digest: Hash32.sha256(set).data, of: "the set") == set)
        let other = Hash32.sha256([1, 2, 3]).data
        #expect { try log.read(location, digest: other, of: "node 360100's change set at 1") } throws: { error in
            let failure = error as? EvidenceLog.Failure
            return failure?.isDigestMismatch == true
                && failure?.description == "the evidence of node 360100's change set at 1 does not match its digest"
        }
    }

    @Test func unreferencedTailIsCutAndAShortFileRefused() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first: EvidenceLog.Location
        do {
            let log = try EvidenceLog(path: path, referencedEnd: nil)
            first = try await log.append(Array("kept".utf8))
            _ = try await log.append(Array("written before a crash, never committed".utf8))
        }
        // The store references only the first set: the second is cut off.
        let reopened = try EvidenceLog(path: path, referencedEnd: first.end)
        #expect(try reopened.read(first) == Array("kept".utf8))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == Int(first.end))
        let next = try await reopened.append(Array("next".utf8))
        #expect(next.offset == first.end)
        // A store that references more than the file holds does not open.
        #expect(throws: EvidenceLog.Failure.self) { try EvidenceLog(path: path, referencedEnd: next.end + 10) }
        // Nor does a file that is not evidence.
        try Data("not evidence".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: EvidenceLog.Failure.self) { try EvidenceLog(path: path, referencedEnd: nil) }
    }
}
