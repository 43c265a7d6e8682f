@testable import CreditCore
import Testing

/// The byte-level checks that replace scalar-level ones on the validation path agree with them.
@Suite struct UTF8BytesTests {
    /// Every White_Space scalar, and neighbours of each that are not.
    static let spaces: [Unicode.Scalar] = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2005, 0x200A, 0x2028,
                                           0x2029, 0x202F, 0x205F, 0x3000].map { Unicode.Scalar($0)! }
    static let others: [Unicode.Scalar] = [0x08, 0x0E, 0x1F, 0x21, 0x84, 0x86, 0x9F, 0xA1, 0x167F, 0x1681, 0x1FFF, 0x200B, 0x2027,
                                           0x202A, 0x202E, 0x2030, 0x205E, 0x2060, 0x2FFF, 0x3001, 0x3002, 0x6C5F, 0x1F600]
        .map { Unicode.Scalar($0)! }

    @Test func whiteSpaceAtEitherEndIsFoundOnTheBytes() {
        for scalar in Self.spaces + Self.others {
            let expected = scalar.isWhiteSpace
            #expect(expected == Self.spaces.contains(scalar))
            for text in [String(scalar), "\(scalar)江西", "江西\(scalar)", "a\(scalar)", "\(scalar)a"] {
                text.withUTF8Bytes { bytes in
                    #expect(bytes.startsWithWhiteSpace == text.unicodeScalars.first!.isWhiteSpace, "start of \(Array(text.unicodeScalars))")
                    #expect(bytes.endsWithWhiteSpace == text.unicodeScalars.last!.isWhiteSpace, "end of \(Array(text.unicodeScalars))")
                }
            }
        }
        "".withUTF8Bytes { #expect(!$0.startsWithWhiteSpace && !$0.endsWithWhiteSpace) }
    }

    @Test func trimmingKeepsWhatHasNothingToTrim() {
        #expect("\u{3000}南昌 \u{A0}".trimmingWhitespace() == "南昌")
        #expect("南昌。".trimmingWhitespace() == "南昌。")
        #expect(" \u{2028}".trimmingWhitespace() == "")
        #expect("x".trimmingWhitespace() == "x")
    }

    @Test func keysSortByTheirUTF8Bytes() {
        let keys = ["b", "a", "ab", "", "CF_WSH", "CF_WFXW", "é", "z", "江", "😀", "\u{FFFF}", "a\u{0}"]
        let expected = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(keys.sorted(by: String.utf8Precedes) == expected)
    }
}
