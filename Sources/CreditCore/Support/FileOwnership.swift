public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file's owner and mode, and who this process runs as, in words: what a refusal about
/// ownership says (a store, a key or a token made by root for a daemon that runs as its own
/// user is the usual cause).
public enum FileOwnership {
    /// The name of user `uid`, or `uid N` when it has none.
    public static func userName(_ uid: uid_t) -> String {
        getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(uid)"
    }

    /// The user this process runs as.
    public static var currentUser: String { userName(geteuid()) }

    /// "PATH belongs to OWNER (mode 600) and this process runs as USER", or `nil` when `path`
    /// cannot be read.
    public static func describe(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(path) belongs to \(userName(info.st_uid)) (mode \(String(info.st_mode & 0o7777, radix: 8))) and this process runs as \(currentUser)"
    }
}
