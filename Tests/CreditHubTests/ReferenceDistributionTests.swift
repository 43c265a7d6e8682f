import CreditCore
import CreditData
import CreditHub
import CreditNode
import CreditTesting
import Foundation
import SyncProtocol
import SyncTransport
import Testing

/// One catalog and one calendar for the whole province: the hub distributes its files, signed,
/// and nodes switch to new versions without a restart.
@Suite struct ReferenceDistributionTests {
    @Test func aNewYearAndACitySupplementReachTheNodesWithoutARestart() async throws {
        let dir = try Fixtures.temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hubData = dir.appendingPathComponent("hub-data", isDirectory: true)
        try FileManager.default.createDirectory(at: hubData, withIntermediateDirectories: true)
        let clock = VirtualClock(NodeFixture.now)
        let store = try HubStore(path: nil)
        let hubKey = SyncFixtures.key("hub")
        let hub = try HubService(store: store, key: hubKey, reference: Fixtures.reference,
                                 distribution: ReferenceDistribution(overlays: [hubData]), now: clock.function)
        try hub.reloadReference()
        let node = try NodeFixture(node: "360100", writeItems: nil, readScope: .all)
        var pinned = KeyRegistry()
        try pinned.enroll(hubKey.publicKey, for: "360000")
        let sync = ReferenceSync(service: node.service, transport: LocalHubTransport(hub: hub), hub: "360000", hubKeys: pinned,
                                 overlays: [], cache: dir.appendingPathComponent("node-cache", isDirectory: true))
        _ = try await sync.syncOnce()
        #expect(try await sync.syncOnce() == false) // nothing new the second time
        #expect(!node.service.reference.calendar.isPublished(year: 2027))

        // The province registers the 2027 notice and Nanchang's supplement at the hub.
        try FileManager.default.createDirectory(at: hubData.appendingPathComponent("calendar"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: hubData.appendingPathComponent("catalog"), withIntermediateDirectories: true)
        let notice = HolidayFile(year: 2027, days: [.init(name: "元旦", date: CivilDate(year: 2027, month: 1, day: 1)!, isOffDay: true)])
        try JSONEncoder().encode(notice).write(to: hubData.appendingPathComponent("calendar/holiday-cn-2027.json"))
        let item = CatalogItem(code: "nanchang-night-market", name: "夜市经营承诺", title: "Night-market pledge", category: .positive,
                               basis: "Article 11", subjectKinds: [.legalPerson], disclosure: .public, decisionDateField: "pledgeDate",
                               fields: [FieldSpec(name: "pledgeDate", label: "承诺日期", type: .date, required: true)])
        let layer = CatalogLayer(layer: .city, id: "360100", version: "2026.1", title: "南昌市补充目录", division: "360100", items: [item])
        try JSONEncoder().encode(layer).write(to: hubData.appendingPathComponent("catalog/city-360100.json"))
        #expect(try hub.reloadReference())
        #expect(hub.reference.calendar.isPublished(year: 2027))

        // The node picks both up and validates against them at once.
        #expect(try await sync.syncOnce())
        #expect(node.service.reference.calendar.isPublished(year: 2027))
        #expect(node.service.reference.catalog.version.hasSuffix("+360100@2026.1"))
        let record: JSONValue = .object(["item": .string("nanchang-night-market"), "recordId": .string("NM-1"),
                                         "subject": .object(["kind": .string("legal-person"), "name": .string("某商户"),
                                                             "uscc": .string(node.generator.companyCode(1))]),
                                         "fields": .object(["pledgeDate": .string("2026-11-01")])])
        #expect(try node.service.submit([record], by: node.identity)[0].status == .accepted)
    }

    /// hub-api.md, Reference data: the node MUST check each file's size and SHA-256 against the
    /// signed manifest, and refuses a manifest naming a path outside the reference folders. A file
    /// altered on the way is not written, and the node keeps the reference data it had.
    @Test func aFileThatIsNotTheManifestsAndAnUnsafePathAreRefused() async throws {
        final class Tampering: ForwardingTransport, @unchecked Sendable {
            var tamper = true
            override func referenceFile(_ path: String) async throws(TransportError) -> [UInt8] {
                var bytes = try await inner.referenceFile(path)
                if tamper, let i = bytes.firstIndex(of: UInt8(ascii: "1")) { bytes[i] = UInt8(ascii: "2") }
                return bytes
            }
        }
        let dir = try Fixtures.temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hubData = dir.appendingPathComponent("hub-data/calendar", isDirectory: true)
        try FileManager.default.createDirectory(at: hubData, withIntermediateDirectories: true)
        let notice = HolidayFile(year: 2027, days: [.init(name: "元旦", date: CivilDate(year: 2027, month: 1, day: 1)!, isOffDay: true)])
        try JSONEncoder().encode(notice).write(to: hubData.appendingPathComponent("holiday-cn-2027.json"))
        let hubKey = SyncFixtures.key("hub")
        let hub = try HubService(store: HubStore(path: nil), key: hubKey, reference: Fixtures.reference,
                                 distribution: ReferenceDistribution(overlays: [hubData.deletingLastPathComponent()]))
        try hub.reloadReference()
        let node = try NodeFixture()
        var pinned = KeyRegistry()
        try pinned.enroll(hubKey.publicKey, for: "360000")
        let cache = dir.appendingPathComponent("node-cache", isDirectory: true)
        let link = Tampering(LocalHubTransport(hub: hub))
        let sync = ReferenceSync(service: node.service, transport: link, hub: "360000", hubKeys: pinned, overlays: [], cache: cache)
        await #expect(throws: WireError.self) { try await sync.syncOnce() }
        #expect(!FileManager.default.fileExists(atPath: cache.appendingPathComponent("calendar/holiday-cn-2027.json").path))
        #expect(!node.service.reference.calendar.isPublished(year: 2027))
        link.tamper = false
        #expect(try await sync.syncOnce())
        #expect(node.service.reference.calendar.isPublished(year: 2027))

        for path in ["../node.key", "calendar/../../node.key", "/etc/passwd", "calendar/.hidden.json", "keys/hub.json", "calendar/a/b.json"] {
            let manifest = ReferenceManifest(files: [.init(path: path, sha256: String(repeating: "0", count: 64), size: 1)])
            #expect(throws: WireError.self, "\(path)") { try ReferenceManifest.open(try manifest.signed(with: hubKey), hub: "360000", keys: pinned) }
        }
    }

    @Test func aManifestNotSignedByThePinnedHubKeyIsRefused() async throws {
        let dir = try Fixtures.temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = try HubService(store: HubStore(path: nil), key: SigningKey(), reference: Fixtures.reference,
                                 distribution: ReferenceDistribution(overlays: []))
        let node = try NodeFixture()
        var pinned = KeyRegistry()
        try pinned.enroll(SyncFixtures.key("hub").publicKey, for: "360000")
        let sync = ReferenceSync(service: node.service, transport: LocalHubTransport(hub: hub), hub: "360000", hubKeys: pinned,
                                 overlays: [], cache: dir)
        await #expect(throws: (any Error).self) { try await sync.syncOnce() }
    }

    @Test func aSupplementTheLoaderRefusesLeavesTheHubOnWhatItHad() throws {
        let dir = try Fixtures.temporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("catalog"), withIntermediateDirectories: true)
        let hub = try HubService(store: HubStore(path: nil), key: SigningKey(), reference: Fixtures.reference,
                                 distribution: ReferenceDistribution(overlays: [dir]))
        try hub.reloadReference()
        let version = hub.reference.catalog.version
        let bad = CatalogItem(code: "health", name: "健康", title: "", category: .basic, basis: "", subjectKinds: [.naturalPerson],
                              disclosure: .shared, decisionDateField: "d",
                              fields: [FieldSpec(name: "d", label: "日期", type: .date, required: true),
                                       FieldSpec(name: "bloodType", label: "血型", type: .string)])
        try JSONEncoder().encode(CatalogLayer(layer: .city, id: "360200", version: "1", title: "x", items: [bad]))
            .write(to: dir.appendingPathComponent("catalog/city-360200.json"))
        #expect(throws: (any Error).self) { try hub.reloadReference() }
        #expect(hub.reference.catalog.version == version)
    }
}
