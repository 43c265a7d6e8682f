public import CreditCore
public import CreditData
public import CreditNode
public import Foundation
public import SyncProtocol

/// A node with an in-memory (or file) store, the bundled reference data, a fixed clock and a
/// provider credential, for the node tests.
public struct NodeFixture: Sendable {
    public let service: NodeService
    public let token: String
    public let identity: ProviderIdentity
    public let key: SigningKey
    public let generator: SyntheticRecords

    /// The fixed "now" of node tests: 2026-11-20 10:00 China time.
    public static let now = ISO8601DateFormatter().date(from: "2026-11-20T02:00:00Z")!

    /// - Parameter now: the node's clock; ``now`` fixed unless a test moves time.
    public init(node: String = "360100", path: String? = nil, writeItems: Set<String>? = nil, readScope: ReadScope = .own,
                limits: NodeService.Limits = .init(), now: @escaping @Sendable () -> Date = { NodeFixture.now }) throws {
        let store = try NodeStore(path: path)
        generator = SyntheticRecords(division: node)
        service = NodeService(node: node, store: store, reference: Fixtures.reference, limits: limits, now: now)
        (_, token) = try store.addCredential(name: "\(generator.cityName)市场监督管理局", unit: try UnifiedSocialCreditCode.parse(generator.regulatorCode),
                                             writeItems: writeItems, readScope: readScope, at: NodeFixture.now)
        identity = try store.authenticate(token: token)!
        key = SyncFixtures.key("node-\(node)")
    }

    /// Synthetic punishment records as JSON.
    public func punishments(_ range: Range<Int>, decidedOn date: CivilDate = CivilDate(year: 2026, month: 6, day: 1)!) -> [JSONValue] {
        var g = generator
        return range.map { NodeFixture.json(g.punishment($0, decidedOn: date)) }
    }

    /// A record as the JSON a provider sends.
    public static func json(_ record: CreditRecord) -> JSONValue {
        try! JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(record))
    }

    /// The Article 33 person of the serious-list entry of `Protocol/vectors/records.json`.
    public static let listedPerson: JSONValue = .object(["role": .string("legal-representative"), "name": .string("陈杰"),
                                                         "residentId": .string("360102198001010056")])

    /// The serious-list entry of `Protocol/vectors/records.json`, naming `persons` (Article 33).
    public static func seriousListEntry(persons: [JSONValue] = [listedPerson]) -> CreditRecord {
        CreditRecord(item: "serious-untrustworthy-list", recordId: "l1",
                     subject: Subject(kind: .legalPerson, name: "南昌赣江商贸有限公司", uscc: "91110000600037341L"),
                     fields: ["listName": .string("严重违法失信主体名单"), "designatingAuthority": .string("南昌市市场监督管理局"),
                              "designatingAuthorityCode": .string("121200004013590816"),
                              "designationDocument": .string("洪市监列〔2026〕3号"), "designationDate": .string("2026-06-01"),
                              "reason": .string("提交虚假材料取得许可"), "basis": .string("《市场监督管理严重违法失信名单管理办法》"),
                              "noticeDate": .string("2026-05-20"), "noticeDocument": .string("洪市监告〔2026〕3号"),
                              "objectionReview": .string("未提出异议"), "responsiblePersons": .array(persons)])
    }
}
