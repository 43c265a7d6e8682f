import CreditCore
import Testing

@Suite struct DisplayWidthTests {
    @Test func chineseTakesTwoColumnsAndTablesLineUp() {
        #expect("南昌市".displayWidth == 6)
        #expect("360100".displayWidth == 6)
        #expect("Ａ１".displayWidth == 4)
        #expect("e\u{301}".displayWidth == 1)
        let rows = [("南昌市", "active"), ("abc", "active"), ("江西省公共信用信息平台", "active")]
        let lines = rows.map { $0.0.padded(toDisplayWidth: 24) + $0.1 }
        #expect(Set(lines.map { String($0.dropLast(6)).displayWidth }) == [24])
    }
}
