import CreditCore
import Testing

/// CSV rows keep the line they start on: a quoted cell may span lines, and a clerk finds a row by
/// its line in the file, not by its index.
@Suite struct CSVTests {
    @Test func rowsKnowTheLineTheyStartOn() throws {
        let text = "a,b\n1,\"two\nlines\nhere\"\n\n3,x\n"
        let rows = try CSV.records(text)
        #expect(rows.map(\.line) == [1, 2, 6])
        #expect(rows[1].cells == ["1", "two\nlines\nhere"])
    }

    /// A file Excel saved as "CSV UTF-8", and the rejects file `submit` writes, start with a
    /// byte order mark: it is no part of the first header.
    @Test func aLeadingByteOrderMarkIsDropped() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("CF_WSH,_errors\r\n浔市监罚〔2026〕3号,x\r\n".utf8)
        let rows = try CSV.parse(TextDecoding.decode(bytes, charset: nil))
        #expect(rows == [["CF_WSH", "_errors"], ["浔市监罚〔2026〕3号", "x"]])
    }

    @Test func anUnclosedQuoteIsReportedWhereItOpens() {
        let error = #expect(throws: CSV.ParseError.self) { try CSV.records("a,b\n1,2\n3,\"four\nfive\n") }
        #expect(error?.line == 3)
    }

    @Test func aDoublePublicityRowIsNumberedByItsLine() throws {
        let header = "CF_XDR_MC,CF_XDR_LB,CF_XDR_SHXYM,CF_WSH,CF_SY"
        let text = header + "\n某公司,法人及非法人组织,91110000600037341L,\"洪市监罚\n〔2026〕1号\",事由\n某公司,法人及非法人组织,91110000600037341L,洪市监罚〔2026〕2号,事由\n"
        let (_, rows) = try DoublePublicityCSV.rows(text)
        #expect(rows.map(\.line) == [2, 4])
    }
}
