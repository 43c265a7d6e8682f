import Foundation

/// The command line's arguments, as the kernel holds them.
///
/// Swift's `CommandLine.arguments` on Linux comes back without them under an `LD_PRELOAD`
/// library that sets an environment variable before `main`: libfaketime does, and operators
/// use it to try deadlines at another date (README, "Deadlines at another date"). Every
/// command then printed the top-level help. `/proc/self/cmdline` holds the arguments whatever
/// the environment; it is read only when it has more than the runtime gave.
enum ProcessArguments {
    static var current: [String] {
        let given = CommandLine.arguments
        #if os(Linux)
        if let data = FileManager.default.contents(atPath: "/proc/self/cmdline"), !data.isEmpty {
            // NUL-terminated arguments; an empty argument is kept, the terminator's empty tail is not.
            var parts = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if parts.last == "" { parts.removeLast() }
            if parts.count > given.count { return parts }
        }
        #endif
        return given
    }
}
