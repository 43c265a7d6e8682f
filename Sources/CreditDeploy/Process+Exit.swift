public import Foundation

/// Waiting for a daemon started with `Process` to end, without `waitUntilExit()`.
///
/// Foundation's `waitUntilExit()` on a thread other than the one that started the process spins
/// on an empty run loop: a core's worth of CPU for as long as a daemon takes to shut down, taken
/// from the daemons themselves. Both waits here poll instead.
extension Process {
    /// Blocks the calling thread until the process has ended, looking every 5 ms.
    public func waitWithoutSpinning() {
        while isRunning { usleep(5_000) }
    }

    /// Suspends the calling task until the process has ended, looking every 20 ms: a test's
    /// task waits without holding a thread of the cooperative pool all tests share.
    public func exited() async {
        while isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
