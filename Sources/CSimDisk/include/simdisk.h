#ifndef CREDITSYNC_SIMDISK_H
#define CREDITSYNC_SIMDISK_H

/*
 * A simulated disk for the deterministic simulator (creditsync simulate): a SQLite VFS shim
 * over the system's default VFS, plus the same bookkeeping for plain files (the hub's evidence
 * log), with power-loss semantics.
 *
 * Every write to a file under a registered "disk" directory first records the bytes it
 * overwrites (its pre-image) in that disk's ordered write list; a sync of the file drops the
 * file's entries (they are durable). A power loss undoes, newest first, every entry after a
 * cut point chosen by the caller: what was written but not synced is lost, except a prefix of
 * the unsynced writes that happened to reach the platter (SQLite's "sequential" crash model).
 * It also deletes every -shm file (shared memory does not survive power loss).
 *
 * A disk can be made full (writes that grow a file fail with SQLITE_FULL / ENOSPC) and can be
 * set to crash at its Nth sync: that sync fails, and from then on the disk is dead (writes and
 * syncs fail) until its power loss is applied. Outside the simulator nothing registers a disk
 * and every call passes straight through.
 */

#include <stddef.h>
#include <stdint.h>

/// Registers the "simdisk" VFS as SQLite's default. Idempotent; returns a SQLite result code.
int simdisk_install(void);

/// Makes `dir` (an absolute path, no trailing slash) a disk. Returns its id (>= 0) or -1.
int simdisk_add_disk(const char *dir);

/// Forgets disk `id` (its files are then written straight through); its slot is reused.
void simdisk_remove_disk(int id);

/// Unsynced writes (entries in the write list) of disk `id`.
int simdisk_pending(int id);

/// Power loss on disk `id`: keeps the first `keep` unsynced writes (clamped), undoes the rest,
/// deletes -shm files, and brings the disk back to life. Every file of the disk must be closed.
/// Returns how many writes were undone, or -1 on an I/O error.
int simdisk_power_loss(int id, int keep);

/// From now on, writes that grow a file of disk `id` beyond `budget` more bytes fail (-1: no limit).
void simdisk_set_full(int id, int64_t budget);

/// The `n`th sync from now on disk `id` fails and kills the disk (0: never).
void simdisk_crash_at_sync(int id, int n);

/// A lying disk (a self-test of the simulator): its syncs succeed without making anything durable.
void simdisk_set_lying(int id, int lying);

/// Kills disk `id` now: every write and sync fails until its power loss (a crash).
void simdisk_kill(int id);

/// Whether disk `id` is dead (crashed, waiting for its power loss).
int simdisk_is_dead(int id);

/// Plain-file hooks for files that are not SQLite's (the hub's evidence log): call
/// `simdisk_file_will_write` before writing `length` bytes at `offset` of the file at `path`
/// open as `fd`, and `simdisk_file_did_sync` after an fsync of it. A non-zero return means the
/// write or sync must fail (the disk is dead or full: errno is set to EIO or ENOSPC).
int simdisk_file_will_write(const char *path, int fd, int64_t offset, int64_t length);
int simdisk_file_did_sync(const char *path);
int simdisk_file_will_truncate(const char *path, int fd, int64_t size);

#endif
