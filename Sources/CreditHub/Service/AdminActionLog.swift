import Foundation
import Logging
public import ServiceLifecycle

/// Logs, in the running hub's log, every operator action the admin log gains (node enrolled,
/// key rotated, node or key revoked, subscription changed, conflict resolved, reference file
/// registered): the commands run beside the daemon and write the store, so the daemon reads
/// what they did every few seconds.
public struct AdminActionLog: Service {
    let service: HubService
    let interval: Duration

    public init(service: HubService, interval: Duration = .seconds(5)) {
        self.service = service
        self.interval = interval
    }

    public func run() async throws {
        // Only what happens from now on: the history is in the table.
        var last = (try? service.store.lastAdminActionID()) ?? 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let actions = try? service.store.adminActions(after: last, limit: 100) {
                for action in actions {
                    service.logger.notice("admin action \(action.action) \(action.target): \(action.detail)",
                                          metadata: ["actor": "\(action.actor)", "at": "\(action.at)"])
                    last = action.id
                }
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
        }
    }
}
