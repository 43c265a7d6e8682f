import CSimDisk
public import Foundation

/// The simulated disks of the deterministic simulator (`creditsync simulate`): a SQLite VFS and
/// hooks in ``DurableFile`` that keep every unsynced write undoable, so a crash can have
/// power-loss semantics — what was written but not synced is lost — which `kill -9` cannot
/// show (the page cache survives it). Outside the simulator no disk is registered and every
/// write and sync goes straight to the file system.
public enum SimulatedDisk {
    /// Makes the simulated VFS SQLite's default for every store opened afterwards in this process.
    public static func install() throws {
        let rc = simdisk_install()
        guard rc == 0 else { throw DiskError(description: "cannot register the simulated disk with SQLite (code \(rc))") }
    }

    /// Makes `directory` a disk of its own and returns its id.
    public static func add(_ directory: URL) throws -> Int32 {
        let id = simdisk_add_disk(directory.standardizedFileURL.path)
        guard id >= 0 else { throw DiskError(description: "cannot add a simulated disk at \(directory.path)") }
        return id
    }

    /// Forgets disk `id`: its files are written straight through again.
    public static func remove(_ id: Int32) { simdisk_remove_disk(id) }

    /// Writes of disk `id` that are not synced yet.
    public static func pending(_ id: Int32) -> Int { Int(simdisk_pending(id)) }

    /// Power loss: the first `keep` unsynced writes reached the disk, the rest are undone; shared
    /// memory files are gone. Every file of the disk must be closed. Returns the writes undone.
    @discardableResult
    public static func powerLoss(_ id: Int32, keep: Int) throws -> Int {
        let undone = simdisk_power_loss(id, Int32(clamping: keep))
        guard undone >= 0 else { throw DiskError(description: "cannot undo the unsynced writes of simulated disk \(id)") }
        return Int(undone)
    }

    /// Writes that grow disk `id` by more than `budget` bytes from now on fail (`nil`: no limit).
    public static func setFull(_ id: Int32, budget: Int64?) { simdisk_set_full(id, budget ?? -1) }

    /// The `n`th sync on disk `id` from now on fails and kills the disk until its power loss.
    public static func crash(_ id: Int32, atSync n: Int) { simdisk_crash_at_sync(id, Int32(clamping: n)) }

    /// Makes disk `id` lie: its syncs succeed without making anything durable, as a drive with a
    /// volatile cache and no flush does. For the simulator's self-test: a run on lying disks
    /// that crashes must find acknowledged writes lost.
    public static func setLying(_ id: Int32, _ lying: Bool) { simdisk_set_lying(id, lying ? 1 : 0) }

    /// Kills disk `id` now, as a crash does: nothing more reaches it until its power loss.
    public static func kill(_ id: Int32) { simdisk_kill(id) }

    /// Whether disk `id` crashed and waits for its power loss.
    public static func isDead(_ id: Int32) -> Bool { simdisk_is_dead(id) != 0 }

    public struct DiskError: Error, CustomStringConvertible {
        public var description: String
    }
}

/// Writes, syncs and truncations of a plain file that must survive power loss (the hub's
/// evidence log), with the simulated disk's bookkeeping (``SimulatedDisk``) — a no-op outside
/// the simulator.
public enum DurableFile {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static func failure(_ what: String, _ path: String) -> Failure {
        Failure(description: "cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Writes all of `bytes` at `offset`.
    public static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(Failure) {
        guard simdisk_file_will_write(path, fd, offset, Int64(bytes.count)) == 0 else { throw failure("write", path) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done)) }
            guard n > 0 else { throw failure("write", path) }
            done += n
        }
    }

    /// Makes everything written to the file durable (`fdatasync`).
    public static func sync(_ fd: Int32, path: String) throws(Failure) {
        guard fdatasync(fd) == 0, simdisk_file_did_sync(path) == 0 else { throw failure("sync", path) }
    }

    /// Cuts the file to `size` bytes.
    public static func truncate(_ fd: Int32, to size: Int64, path: String) throws(Failure) {
        guard simdisk_file_will_truncate(path, fd, size) == 0, ftruncate(fd, off_t(size)) == 0 else { throw failure("truncate", path) }
    }
}
