import CreditData
public import Foundation
public import ServiceLifecycle
import SyncProtocol
import SyncTransport
import Synchronization

/// The hub as the source of the province's catalog layers and holiday files (Articles 11, 16):
/// it reads them from its data directories, serves them with a manifest it signs, and picks up
/// a new file (a city's registered supplement, next year's notice) without a restart.
public final class ReferenceDistribution: Sendable {
    let overlays: [URL]
    private let state = Mutex<(manifest: ReferenceManifest, envelope: [UInt8], files: [String: URL])?>(nil)

    public init(overlays: [URL]) { self.overlays = overlays }

    /// Rebuilds the manifest from disk. Returns the reference data when it changed.
    func reload(hubKey: SigningKey) throws -> ReferenceData? {
        let files = try ReferenceData.distributableFiles(overlays: overlays)
        var entries: [ReferenceManifest.File] = []
        var byPath: [String: URL] = [:]
        for (path, url) in files {
            let data = try Data(contentsOf: url)
            entries.append(.init(path: path, sha256: Hash32.sha256(data).hex, size: data.count))
            byPath[path] = url
        }
        let manifest = ReferenceManifest(files: entries)
        if let current = state.withLock({ $0?.manifest }), current.digest == manifest.digest { return nil }
        let reference = try ReferenceData.load(overlays: overlays)
        let envelope = try manifest.signed(with: hubKey)
        state.withLock { $0 = (manifest, envelope, byPath) }
        return reference
    }

    /// The signed manifest.
    func envelope() -> [UInt8]? { state.withLock { $0?.envelope } }

    /// A file the manifest names.
    func file(_ path: String) throws -> [UInt8]? {
        guard ReferenceManifest.isSafe(path), let url = state.withLock({ $0?.files[path] }) else { return nil }
        return Array(try Data(contentsOf: url))
    }
}

extension HubService {
    /// Reloads the reference files; when they changed, the catalog and calendar in force change
    /// too (deadlines are recomputed on their next read).
    @discardableResult
    public func reloadReference() throws -> Bool {
        guard let distribution, let reference = try distribution.reload(hubKey: key) else { return false }
        update(reference: reference)
        logger.notice("reference data in force changed", metadata: [
            "catalog": "\(reference.catalog.version)", "calendars": "\(reference.calendar.publishedYearsText)"])
        return true
    }

    /// The signed manifest of the reference files.
    public func referenceManifest() throws -> [UInt8] {
        guard let distribution else { throw HubError(.notFound, "not-found", "this hub does not distribute reference data") }
        if distribution.envelope() == nil { try reloadReference() }
        return distribution.envelope() ?? []
    }

    /// One reference file.
    public func referenceFile(_ path: String) throws -> [UInt8] {
        guard let bytes = try distribution?.file(path) else { throw HubError(.notFound, "not-found", "no reference file \(path)") }
        return bytes
    }
}

/// Re-reads the hub's reference files now and then, so a registered supplement or a new
/// year's holiday file takes effect without a restart.
public struct ReferenceReloader: Service {
    let service: HubService
    let interval: Duration

    public init(service: HubService, interval: Duration = .seconds(30)) {
        self.service = service
        self.interval = interval
    }

    public func run() async throws {
        // A file the hub cannot read or load (one written 0600 by root, a broken notice) keeps
        // the data in force as it was; said once per distinct failure, and again when it clears.
        var failing: String?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try service.reloadReference()
                if failing != nil { service.logger.notice("reference data readable again") }
                failing = nil
            } catch {
                let text = "\(error)"
                if text != failing {
                    service.logger.error("reference data not taken up; the data in force stays as it was",
                                         metadata: ["error": "\(text)"])
                }
                failing = text
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
        }
    }
}
