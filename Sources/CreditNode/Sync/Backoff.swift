/// Exponential backoff with full jitter, for retrying the hub: each failure doubles the ceiling
/// up to `maximum`, and the actual wait is drawn uniformly below it so that eleven cities'
/// nodes coming back from one outage do not hammer the hub in step.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private(set) var failures = 0

    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait before the next attempt, after one more failure.
    public mutating func next() -> Duration {
        failures += 1
        let factor = 1 << min(failures - 1, 20)
        let ceiling = min(initial * factor, maximum)
        let ms = max(1, Int64(ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000))
        return .milliseconds(Int64.random(in: ms / 2...ms))
    }

    /// Back to the initial wait after a success.
    public mutating func reset() { failures = 0 }
}

import Logging
import ServiceLifecycle

/// The loop of a node service that talks to the hub: run `step` until SIGTERM or cancellation;
/// after a failure, log it and wait with `backoff` before the next try; after a success, reset the
/// backoff. A step in flight is cancelled on SIGTERM.
func runRetrying(_ what: String, backoff initial: Backoff, logger: Logger, step: @escaping @Sendable () async throws -> Void) async {
    var backoff = initial
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        do {
            try await cancelWhenGracefulShutdown { try await step() }
            backoff.reset()
        } catch is CancellationError {
            return
        } catch {
            // A step cancelled by SIGTERM fails with whatever its transport makes of the
            // cancellation ("hub unreachable: CancellationError()"): that is the stop, not a failure.
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            let wait = backoff.next()
            logger.warning("\(what) failed; retrying", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
            // A shutdown does not wait out the back-off (a node the hub refuses took up to a minute to stop).
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) } } catch { return }
        }
    }
}
