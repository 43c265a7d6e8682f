import Crypto
@testable import CreditStorage
import Foundation
import Testing

/// ``StoredPayload``: what a store compressed reads back exactly, from this build and every later one.
@Suite struct StoredPayloadTests {
    static let record = #"{"fields":{"CF_CFJG":"南昌市市场监督管理局","CF_CFLB":"警告","CF_JDRQ":"2026-06-01","CF_WSH":"南昌市监罚〔2026〕1000号"},"item":"administrative-punishment","recordId":"CF-360100-2026-1000","subject":{"kind":"legal-person","name":"南昌市赣江药房有限公司","uscc":"91360100MA0010002N"}}"#

    /// Dictionary 1 is frozen: stores hold what it compressed, and only its exact bytes read it back.
    @Test func dictionaryOneNeverChanges() {
        let digest = SHA256.hash(data: Array(StoredPayload.dictionary1.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(digest == "ab6ad579ea3076756edfb3f428aa26fa25a8ac1e6dc5443dd52894bad790e6f9")
    }

    /// A frame written by another zstd (Python's, at the same level, with the same dictionary)
    /// reads back: the format is zstd's and the dictionary's, not this build's.
    @Test func aFrameFromAnotherEncoderReadsBack() throws {
        let hex = "0128b52ffd603a004505004407e58d97e6988ce5b882e5b882e59cbae79b91e79da3e7aea1e79086e5b180323032362d30362d3031e79b91e7bd9ae3809432303236e3809531303030e58fb743462d3336303130302d31303030e8b5a3e6b19fe88dafe688bfe69c89e99990e585ace58fb839314d41303031303030324e227d7d10006b1818e472cfe40bcbf21a520701430a6b90392070fea6af5020fd7080a6061ac0c900c93001610a87e7183618720f08"
        let frame = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
        #expect(try StoredPayload.decompress(frame) == Array(Self.record.utf8))
    }

    @Test(arguments: [[UInt8](), Array(record.utf8), Array(repeating: 0xA5, count: 70_000), (0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }])
    func whatIsCompressedReadsBackExactly(_ bytes: [UInt8]) throws {
        let stored = StoredPayload.compress(bytes)
        #expect(stored.first == 1)
        #expect(try StoredPayload.decompress(stored) == bytes)
        #expect(try StoredPayload.decompress(Data(stored)) == bytes)
    }

    /// The point of the dictionary: a short record shrinks by more than a third.
    @Test func aRecordShrinks() {
        let bytes = Array(Self.record.utf8)
        #expect(StoredPayload.compress(bytes).count * 3 < bytes.count * 2)
    }

    /// Bytes no build wrote are an error that says so, never a wrong record.
    @Test func damageIsAnError() {
        let stored = StoredPayload.compress(Array(Self.record.utf8))
        #expect(throws: StoredPayloadError.unknownFormat(7)) { try StoredPayload.decompress([7] + stored.dropFirst()) }
        #expect(throws: StoredPayloadError.unknownFormat(nil)) { try StoredPayload.decompress([UInt8]()) }
        #expect(throws: StoredPayloadError.self) { try StoredPayload.decompress([1]) }
        #expect(throws: StoredPayloadError.self) { try StoredPayload.decompress(Array(stored.prefix(stored.count - 5))) }
    }

    /// Every single flipped bit of a frame is an error, never other bytes of the same length: the
    /// frame carries a checksum. Without it, three flips in four had decoded to a different record.
    @Test func everyFlippedBitIsCaught() {
        let bytes = Array(Self.record.utf8)
        let stored = StoredPayload.compress(bytes)
        var silent: [Int] = []
        for bit in 8..<(stored.count * 8) {
            var damaged = stored
            damaged[bit / 8] ^= 1 << (bit % 8)
            if let read = try? StoredPayload.decompress(damaged), read != bytes { silent.append(bit) }
        }
        #expect(silent.isEmpty, "bits that decoded to other bytes: \(silent)")
    }

    /// The contexts are pooled: many tasks at once each get their own bytes back.
    @Test func concurrentUseKeepsEachCallersBytes() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<16 {
                group.addTask {
                    for i in 0..<200 {
                        let bytes = Array("\(Self.record)\(task)-\(i)".utf8)
                        guard try StoredPayload.decompress(StoredPayload.compress(bytes)) == bytes else { return false }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}
