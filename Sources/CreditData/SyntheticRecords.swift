public import CreditCore

/// Deterministic synthetic credit records for the demo, tests and benchmarks: valid identifiers
/// (composed with the real check algorithms) and realistic permit and punishment fields.
///
/// Nothing here is real data; names are drawn from small word lists and every identifier is
/// built from a Jiangxi division code, a counter and the standards' check characters.
public struct SyntheticRecords: Sendable {
    /// Jiangxi's 11 districted cities (2024).
    public static let cities: [(code: String, name: String)] = [
        ("360100", "南昌市"), ("360200", "景德镇市"), ("360300", "萍乡市"), ("360400", "九江市"),
        ("360500", "新余市"), ("360600", "鹰潭市"), ("360700", "赣州市"), ("360800", "吉安市"),
        ("360900", "宜春市"), ("361000", "抚州市"), ("361100", "上饶市"),
    ]

    public let division: String
    public let cityName: String
    private var random: SplitMix64

    /// A generator for the city with `division`, seeded so that runs repeat exactly.
    public init(division: String, seed: UInt64 = 1) {
        self.division = division
        self.cityName = Self.cities.first { $0.code == division }?.name ?? "江西省"
        self.random = SplitMix64(state: seed &+ (UInt64(division) ?? 0))
    }

    /// The credit code of this city's market regulation bureau (authority 1, type 1: a state organ).
    public var regulatorCode: String {
        UnifiedSocialCreditCode.compose(authority: "1", type: "1", division: division,
                                        organizationBody: "0" + String(division.suffix(4)) + "001")
    }

    /// The name of this city's market regulation bureau.
    public var regulatorName: String { "\(cityName)市场监督管理局" }

    /// A company's credit code; the same `index` always gives the same company.
    public func companyCode(_ index: Int) -> String {
        UnifiedSocialCreditCode.compose(division: division, organizationBody: String(format: "MA%06d", index % 1_000_000))
    }

    /// A company's name.
    public func companyName(_ index: Int) -> String {
        let words = ["赣江", "庐山", "井冈", "鄱阳", "武功", "三清", "龙虎", "滕王", "瓷都", "红土"]
        let trades = ["商贸", "建材", "食品", "物流", "药房", "餐饮", "科技", "农业"]
        return "\(cityName)\(words[index % words.count])\(trades[(index / words.count) % trades.count])有限公司（\(index)）"
    }

    /// A natural person's resident identity number and name.
    public func person(_ index: Int, bornIn year: Int = 1980) -> (residentId: String, name: String) {
        let birth = CivilDate(year: year + index % 30, month: 1 + index % 12, day: 1 + index % 28)!
        let surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"]
        let given = ["伟", "芳", "敏", "静", "强", "磊", "洋", "艳", "军", "杰"]
        return (ResidentIdentityNumber.compose(division: division.prefix(4) + "02", birthDate: birth, sequence: 10 + index % 980),
                surnames[index % 10] + given[(index / 10) % 10] + (index % 3 == 0 ? "华" : ""))
    }

    private mutating func next() -> UInt64 { random.next() }

    /// An administrative punishment of company `index`, decided on `date`.
    public mutating func punishment(_ index: Int, decidedOn date: CivilDate) -> CreditRecord {
        let kinds = [("罚款", "未按规定公示年度报告"), ("警告", "未亮照经营"), ("罚款", "销售不符合食品安全标准的食品"),
                     ("没收违法所得", "虚假宣传"), ("罚款", "价格违法")]
        let (category, conduct) = kinds[Int(next() % UInt64(kinds.count))]
        let fine = Double(next() % 500 + 1) / 100 // 0.01 … 5 万元
        var fields: [String: JSONValue] = [
            "CF_WSH": .string("\(cityName.prefix(2))市监罚〔\(date.year)〕\(index)号"),
            "CF_WFXW": .string(conduct),
            "CF_SY": .string("当事人\(conduct)，经查属实。"),
            "CF_YJ": .string("《中华人民共和国行政处罚法》及相关法律法规"),
            "CF_CFLB": .string(category),
            "CF_NR": .string(category == "罚款" ? "罚款\(Int(fine * 10_000))元" : category),
            "CF_JDRQ": .string(date.description),
            "CF_CFJG": .string(regulatorName),
            "CF_CFJGDM": .string(regulatorCode),
            "CF_SJLY": .string(regulatorName),
            "CF_SJLYDM": .string(regulatorCode),
            "procedure": .string("general"),
            "severity": .string(index % 7 == 0 ? "serious" : "general"),
        ]
        if category == "罚款" { fields["CF_NR_FK"] = .number(String(format: "%.2f", fine)) }
        return CreditRecord(item: "administrative-punishment", recordId: "CF-\(division)-\(date.year)-\(index)",
                            subject: Subject(kind: .legalPerson, name: companyName(index), uscc: companyCode(index)),
                            fields: fields)
    }

    /// An administrative permit granted to company `index` on `date`.
    public mutating func permit(_ index: Int, grantedOn date: CivilDate) -> CreditRecord {
        let permits = [("食品经营许可证", "核准"), ("药品经营许可证", "核准"), ("道路运输经营许可证", "普通"), ("建筑业企业资质证书", "认可")]
        let (name, kind) = permits[Int(next() % UInt64(permits.count))]
        let fields: [String: JSONValue] = [
            "XK_XKWS": .string("准予行政许可决定书"),
            "XK_WSH": .string("\(cityName.prefix(2))许字〔\(date.year)〕\(index)号"),
            "XK_XKLB": .string(kind),
            "XK_XKZS": .string(name),
            "XK_XKBH": .string("JY\(division)\(String(format: "%08d", index))"),
            "XK_NR": .string("准予\(name)，经营项目按证书所载"),
            "XK_JDRQ": .string(date.description),
            "XK_YXQZ": .string(date.description),
            "XK_YXQZI": .string(date.adding(months: 60).description),
            "XK_XKJG": .string(regulatorName),
            "XK_XKJGDM": .string(regulatorCode),
            "XK_LYDW": .string(regulatorName),
            "XK_LYDWDM": .string(regulatorCode),
        ]
        return CreditRecord(item: "administrative-permit", recordId: "XK-\(division)-\(date.year)-\(index)",
                            subject: Subject(kind: .legalPerson, name: companyName(index), uscc: companyCode(index)),
                            fields: fields)
    }
}

import Foundation
