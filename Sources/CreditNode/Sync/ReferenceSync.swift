import CreditData
public import Foundation
public import Logging
public import ServiceLifecycle
public import SyncProtocol
public import SyncTransport

/// Keeps the node on the province's catalog and calendar (a Service): it fetches the hub's
/// signed manifest, downloads each file whose hash changed into a cache beside the store, checks
/// the hash against the manifest, and switches the node to the new data without a restart.
/// A file that does not load (a catalog the loader refuses) leaves the node on what it had.
public struct ReferenceSync: Service {
    let service: NodeService
    let transport: any HubTransport
    let hub: String
    let hubKeys: KeyRegistry
    /// The node's own overlay directories, then the cache; the hub's files win.
    let overlays: [URL]
    public let cache: URL
    let interval: Duration
    let logger: Logger

    public init(service: NodeService, transport: any HubTransport, hub: String, hubKeys: KeyRegistry, overlays: [URL], cache: URL,
                interval: Duration = .seconds(300), logger: Logger = Logger(label: "creditsync.reference")) {
        self.service = service
        self.transport = transport
        self.hub = hub
        self.hubKeys = hubKeys
        self.overlays = overlays
        self.cache = cache
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if try await cancelWhenGracefulShutdown({ try await syncOnce() }) {
                    logger.notice("switched to the hub's reference data", metadata: [
                        "catalog": "\(service.reference.catalog.version)",
                        "calendars": "\(service.reference.calendar.publishedYearsText)"])
                }
            } catch is CancellationError {
                return
            } catch {
                // Cut by SIGTERM: the stop, not a failure (see `runRetrying`).
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("reference data not refreshed", metadata: ["error": "\(error)"])
            }
            // The wait ends at once on SIGTERM, so the node shuts down without delay.
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
        }
    }

    /// One round. Returns whether the node switched to new reference data.
    @discardableResult
    public func syncOnce() async throws -> Bool {
        let manifest = try ReferenceManifest.open(try await transport.referenceManifest(), hub: hub, keys: hubKeys)
        var changed = false
        for file in manifest.files {
            let local = cache.appendingPathComponent(file.path)
            if let existing = try? Data(contentsOf: local), Hash32.sha256(existing).hex == file.sha256 { continue }
            let bytes = try await transport.referenceFile(file.path)
            guard bytes.count == file.size, Hash32.sha256(bytes).hex == file.sha256 else {
                throw WireError.inconsistent("\(file.path) does not match the hub's signed manifest")
            }
            try FileManager.default.createDirectory(at: local.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: local, options: .atomic)
            changed = true
        }
        guard changed else { return false }
        service.update(reference: try ReferenceData.load(overlays: overlays + [cache]))
        return true
    }
}
