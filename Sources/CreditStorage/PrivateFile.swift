import CreditCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A store's files (the database, the hub's evidence, the lock) are private to the user its
/// daemon runs as: mode 0600 whatever the umask of whoever made them, since a store holds every
/// credit record of its city or of the province.
///
/// An operator command run as root before the daemon's first start (`hub reference add`,
/// `node provider add`) would otherwise make files the daemon's user cannot open. A file root
/// makes in a directory that another user owns, and that nobody else may write, is that user's.
/// The directory is opened first and the file made in the directory opened (`openat`), so a
/// path swapped in between cannot make root give a file to someone else. (SQLite gives the
/// write-ahead log and shared-memory files it makes the database file's mode, and, running as
/// root, its owner.)
public enum PrivateFile {
    /// Creates `path` empty, mode 0600, unless it exists; made by root, it is given to the
    /// directory's owner as above.
    public static func create(_ path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let directory = Glibc.open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            let code = errno
            throw StoreFileError(description: "cannot create \(path): \(String(cString: strerror(code)))"
                + (code == ENOENT ? " (create its directory first, owned by the user the daemon runs as)" : ""))
        }
        defer { close(directory) }
        let fd = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            guard code == EEXIST else { throw StoreFileError(description: "cannot create \(path): \(String(cString: strerror(code)))") }
            return
        }
        defer { close(fd) }
        var info = stat()
        guard geteuid() == 0, fstat(directory, &info) == 0, info.st_uid != 0, info.st_mode & 0o022 == 0 else { return }
        if fchown(fd, info.st_uid, info.st_gid) != 0 {
            let code = errno
            // Not left behind root's: a later run would take the file as it is.
            unlinkat(directory, name, 0)
            throw StoreFileError(description: "cannot give the new file \(path) to its directory's owner "
                                 + "(\(FileOwnership.userName(info.st_uid))): \(String(cString: strerror(code)))")
        }
    }

    /// The first of `files` (that exist) and their directory that this process may not write,
    /// said with its owner and mode; `nil` when there is none.
    public static func ownershipProblem(_ files: [String]) -> String? {
        guard let first = files.first else { return nil }
        let parent = (first as NSString).deletingLastPathComponent
        for file in files + [parent.isEmpty ? "." : parent] where access(file, F_OK) == 0 && access(file, W_OK) != 0 {
            guard let described = FileOwnership.describe(file) else { continue }
            return "; \(described), who may not write it: a store's files belong to the user its daemon runs as "
                + "(chown creditsync: \(first)* for the shipped units), and operator commands run as that user"
        }
        return nil
    }
}
