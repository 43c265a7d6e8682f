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
        (_, token) = try store.addCredential(name: "\(generator.cityName)市场监督管理局", unit: generator.regulatorCode,
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
}
