public import Foundation

/// A clock tests move by hand, so that deadline logic runs in virtual time, never with sleep.
public final class VirtualClock: @unchecked Sendable {
    private var current: Date
    private let lock = NSLock()

    public init(_ start: Date) { current = start }

    public var now: Date { lock.withLock { current } }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }

    /// Sets the clock.
    public func set(_ date: Date) { lock.withLock { current = date } }

    /// A `now` function to inject.
    public var function: @Sendable () -> Date { { self.now } }
}
