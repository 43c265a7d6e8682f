// The simulated disk of simdisk.h: a SQLite VFS shim and plain-file hooks with power-loss
// semantics. See the header for the model.

#include "simdisk.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#define MAX_DISKS 256

/// One unsynced write or truncation: enough to undo it.
typedef struct Entry {
    struct Entry *next;
    char *path;
    int64_t offset;     // where the pre-image goes back
    int64_t oldSize;    // the file's size before the write
    unsigned char *pre; // the bytes the write overwrote (within the old size)
    int64_t preLength;
} Entry;

typedef struct Disk {
    char *dir;
    size_t dirLength;
    Entry *head, *tail;
    int count;
    int64_t budget; // -1: no limit
    int64_t grown;
    int crashCountdown;
    int dead;
    int lying; // syncs succeed without making anything durable
} Disk;

static Disk disks[MAX_DISKS];
static int diskCount = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int diskOf(const char *path) {
    if (!path) return -1;
    for (int i = 0; i < diskCount; i++) {
        Disk *d = &disks[i];
        if (d->dir && strncmp(path, d->dir, d->dirLength) == 0 && path[d->dirLength] == '/') return i;
    }
    return -1;
}

static void dropEntries(Disk *d, const char *path) {
    Entry **link = &d->head;
    d->tail = NULL;
    while (*link) {
        Entry *e = *link;
        if (strcmp(e->path, path) == 0) {
            *link = e->next;
            free(e->path);
            free(e->pre);
            free(e);
            d->count--;
        } else {
            d->tail = e;
            link = &e->next;
        }
    }
}

static void append(Disk *d, const char *path, int64_t offset, int64_t oldSize, unsigned char *pre, int64_t preLength) {
    Entry *e = calloc(1, sizeof(Entry));
    e->path = strdup(path);
    e->offset = offset;
    e->oldSize = oldSize;
    e->pre = pre;
    e->preLength = preLength;
    if (d->tail) d->tail->next = e; else d->head = e;
    d->tail = e;
    d->count++;
}

/// Whether a write growing the disk by `growth` bytes fits; counts it when it does.
static int fits(Disk *d, int64_t growth) {
    if (growth <= 0) return 1;
    if (d->budget >= 0 && d->grown + growth > d->budget) return 0;
    d->grown += growth;
    return 1;
}

/// Counts a sync; returns 0 when it may happen, 1 when the disk crashes at it (or is dead).
static int syncCrashes(Disk *d) {
    if (d->dead) return 1;
    if (d->crashCountdown > 0 && --d->crashCountdown == 0) {
        d->dead = 1;
        return 1;
    }
    return 0;
}

int simdisk_add_disk(const char *dir) {
    pthread_mutex_lock(&lock);
    int id = -1, slot = -1;
    for (int i = 0; i < diskCount; i++) {
        if (!disks[i].dir) { if (slot < 0) slot = i; }
        else if (strcmp(disks[i].dir, dir) == 0) id = i;
    }
    if (id < 0 && (slot >= 0 || diskCount < MAX_DISKS)) {
        id = slot >= 0 ? slot : diskCount++;
        memset(&disks[id], 0, sizeof(Disk));
        disks[id].dir = strdup(dir);
        disks[id].dirLength = strlen(dir);
        disks[id].budget = -1;
    }
    pthread_mutex_unlock(&lock);
    return id;
}

void simdisk_remove_disk(int id) {
    pthread_mutex_lock(&lock);
    if (id >= 0 && id < diskCount && disks[id].dir) {
        Disk *d = &disks[id];
        while (d->head) {
            Entry *e = d->head;
            d->head = e->next;
            free(e->path);
            free(e->pre);
            free(e);
        }
        free(d->dir);
        memset(d, 0, sizeof(Disk));
    }
    pthread_mutex_unlock(&lock);
}

int simdisk_pending(int id) {
    pthread_mutex_lock(&lock);
    int n = id >= 0 && id < diskCount ? disks[id].count : 0;
    pthread_mutex_unlock(&lock);
    return n;
}

void simdisk_set_full(int id, int64_t budget) {
    pthread_mutex_lock(&lock);
    if (id >= 0 && id < diskCount) {
        disks[id].budget = budget;
        disks[id].grown = 0;
    }
    pthread_mutex_unlock(&lock);
}

void simdisk_crash_at_sync(int id, int n) {
    pthread_mutex_lock(&lock);
    if (id >= 0 && id < diskCount) disks[id].crashCountdown = n;
    pthread_mutex_unlock(&lock);
}

void simdisk_set_lying(int id, int lying) {
    pthread_mutex_lock(&lock);
    if (id >= 0 && id < diskCount) disks[id].lying = lying;
    pthread_mutex_unlock(&lock);
}

void simdisk_kill(int id) {
    pthread_mutex_lock(&lock);
    if (id >= 0 && id < diskCount) disks[id].dead = 1;
    pthread_mutex_unlock(&lock);
}

int simdisk_is_dead(int id) {
    pthread_mutex_lock(&lock);
    int dead = id >= 0 && id < diskCount ? disks[id].dead : 0;
    pthread_mutex_unlock(&lock);
    return dead;
}

static int undo(const Entry *e) {
    int fd = open(e->path, O_RDWR);
    if (fd < 0) return errno == ENOENT ? 0 : -1; // deleted since: its deletion was durable
    int failed = ftruncate(fd, (off_t)e->oldSize) != 0;
    if (!failed && e->preLength > 0) failed = pwrite(fd, e->pre, (size_t)e->preLength, (off_t)e->offset) != (ssize_t)e->preLength;
    close(fd);
    return failed ? -1 : 0;
}

static void deleteSharedMemory(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *entry;
    size_t dirLength = strlen(dir);
    while ((entry = readdir(d))) {
        size_t n = strlen(entry->d_name);
        if (n > 4 && strcmp(entry->d_name + n - 4, "-shm") == 0) {
            char *path = malloc(dirLength + n + 2);
            memcpy(path, dir, dirLength);
            path[dirLength] = '/';
            memcpy(path + dirLength + 1, entry->d_name, n + 1);
            unlink(path);
            free(path);
        }
    }
    closedir(d);
}

int simdisk_power_loss(int id, int keep) {
    pthread_mutex_lock(&lock);
    if (id < 0 || id >= diskCount) { pthread_mutex_unlock(&lock); return -1; }
    Disk *d = &disks[id];
    int n = d->count;
    if (keep < 0) keep = 0;
    if (keep > n) keep = n;
    Entry **all = calloc((size_t)(n > 0 ? n : 1), sizeof(Entry *));
    int i = 0;
    for (Entry *e = d->head; e; e = e->next) all[i++] = e;
    int failed = 0;
    for (int j = n - 1; j >= keep; j--) if (undo(all[j]) != 0) failed = 1;
    for (int j = 0; j < n; j++) {
        free(all[j]->path);
        free(all[j]->pre);
        free(all[j]);
    }
    free(all);
    d->head = d->tail = NULL;
    d->count = 0;
    d->dead = 0;
    d->crashCountdown = 0;
    deleteSharedMemory(d->dir);
    pthread_mutex_unlock(&lock);
    return failed ? -1 : n - keep;
}

// MARK: - Plain files

static int64_t sizeOf(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
}

/// Records the pre-image of [offset, offset + length) of `fd` on disk `d` (lock held).
static void recordPlain(Disk *d, const char *path, int fd, int64_t offset, int64_t length, int64_t size) {
    int64_t preLength = offset < size ? (offset + length < size ? length : size - offset) : 0;
    unsigned char *pre = NULL;
    if (preLength > 0) {
        pre = malloc((size_t)preLength);
        if (pread(fd, pre, (size_t)preLength, (off_t)offset) != (ssize_t)preLength) preLength = 0;
    }
    append(d, path, offset, size, pre, preLength);
}

int simdisk_file_will_write(const char *path, int fd, int64_t offset, int64_t length) {
    pthread_mutex_lock(&lock);
    int id = diskOf(path);
    int result = 0;
    if (id >= 0) {
        Disk *d = &disks[id];
        int64_t size = sizeOf(fd);
        if (d->dead) { errno = EIO; result = -1; }
        else if (!fits(d, offset + length - size)) { errno = ENOSPC; result = -1; }
        else recordPlain(d, path, fd, offset, length, size);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

int simdisk_file_will_truncate(const char *path, int fd, int64_t size) {
    pthread_mutex_lock(&lock);
    int id = diskOf(path);
    int result = 0;
    if (id >= 0) {
        Disk *d = &disks[id];
        int64_t old = sizeOf(fd);
        if (d->dead) { errno = EIO; result = -1; }
        else if (size < old) recordPlain(d, path, fd, size, old - size, old);
        else append(d, path, old, old, NULL, 0);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

int simdisk_file_did_sync(const char *path) {
    pthread_mutex_lock(&lock);
    int id = diskOf(path);
    int result = 0;
    if (id >= 0) {
        Disk *d = &disks[id];
        if (syncCrashes(d)) { errno = EIO; result = -1; }
        else if (!d->lying) dropEntries(d, path);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

// MARK: - The SQLite VFS shim

typedef struct SimFile {
    sqlite3_file base;
    sqlite3_file *real;
    char *path;
    int disk;
} SimFile;

static sqlite3_vfs *baseVfs = NULL;
static sqlite3_vfs simVfs;

static int simClose(sqlite3_file *f) {
    SimFile *p = (SimFile *)f;
    int rc = p->real->pMethods->xClose(p->real);
    free(p->path);
    return rc;
}

static int simRead(sqlite3_file *f, void *buffer, int amount, sqlite3_int64 offset) {
    SimFile *p = (SimFile *)f;
    return p->real->pMethods->xRead(p->real, buffer, amount, offset);
}

static int simWrite(sqlite3_file *f, const void *buffer, int amount, sqlite3_int64 offset) {
    SimFile *p = (SimFile *)f;
    if (p->disk >= 0) {
        pthread_mutex_lock(&lock);
        Disk *d = &disks[p->disk];
        if (d->dead) { pthread_mutex_unlock(&lock); return SQLITE_IOERR_WRITE; }
        sqlite3_int64 size = 0;
        p->real->pMethods->xFileSize(p->real, &size);
        if (!fits(d, offset + amount - size)) { pthread_mutex_unlock(&lock); return SQLITE_FULL; }
        int64_t preLength = offset < size ? (offset + amount < size ? amount : size - offset) : 0;
        unsigned char *pre = NULL;
        if (preLength > 0) {
            pre = malloc((size_t)preLength);
            if (p->real->pMethods->xRead(p->real, pre, (int)preLength, offset) != SQLITE_OK) { free(pre); pre = NULL; preLength = 0; }
        }
        append(d, p->path, offset, size, pre, preLength);
        pthread_mutex_unlock(&lock);
    }
    return p->real->pMethods->xWrite(p->real, buffer, amount, offset);
}

static int simTruncate(sqlite3_file *f, sqlite3_int64 size) {
    SimFile *p = (SimFile *)f;
    if (p->disk >= 0) {
        pthread_mutex_lock(&lock);
        Disk *d = &disks[p->disk];
        if (d->dead) { pthread_mutex_unlock(&lock); return SQLITE_IOERR_TRUNCATE; }
        sqlite3_int64 old = 0;
        p->real->pMethods->xFileSize(p->real, &old);
        unsigned char *pre = NULL;
        int64_t preLength = 0;
        if (size < old) {
            preLength = old - size;
            pre = malloc((size_t)preLength);
            if (p->real->pMethods->xRead(p->real, pre, (int)preLength, size) != SQLITE_OK) { free(pre); pre = NULL; preLength = 0; }
        }
        append(d, p->path, size < old ? size : old, old, pre, preLength);
        pthread_mutex_unlock(&lock);
    }
    return p->real->pMethods->xTruncate(p->real, size);
}

static int simSync(sqlite3_file *f, int flags) {
    SimFile *p = (SimFile *)f;
    if (p->disk >= 0) {
        pthread_mutex_lock(&lock);
        int crash = syncCrashes(&disks[p->disk]);
        pthread_mutex_unlock(&lock);
        if (crash) return SQLITE_IOERR_FSYNC;
    }
    int rc = p->real->pMethods->xSync(p->real, flags);
    if (rc == SQLITE_OK && p->disk >= 0) {
        pthread_mutex_lock(&lock);
        if (!disks[p->disk].lying) dropEntries(&disks[p->disk], p->path);
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

static int simFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    SimFile *p = (SimFile *)f;
    return p->real->pMethods->xFileSize(p->real, size);
}

static int simLock(sqlite3_file *f, int level) { SimFile *p = (SimFile *)f; return p->real->pMethods->xLock(p->real, level); }
static int simUnlock(sqlite3_file *f, int level) { SimFile *p = (SimFile *)f; return p->real->pMethods->xUnlock(p->real, level); }
static int simCheckReservedLock(sqlite3_file *f, int *out) {
    SimFile *p = (SimFile *)f;
    return p->real->pMethods->xCheckReservedLock(p->real, out);
}
static int simFileControl(sqlite3_file *f, int op, void *arg) {
    SimFile *p = (SimFile *)f;
    if (op == SQLITE_FCNTL_MMAP_SIZE) return SQLITE_NOTFOUND; // no memory-mapped I/O: every write goes through xWrite
    return p->real->pMethods->xFileControl(p->real, op, arg);
}
static int simSectorSize(sqlite3_file *f) { SimFile *p = (SimFile *)f; return p->real->pMethods->xSectorSize(p->real); }
static int simDeviceCharacteristics(sqlite3_file *f) {
    SimFile *p = (SimFile *)f;
    // Claim nothing: SQLite must not rely on atomic or safe-append writes the model does not give.
    return p->real->pMethods->xDeviceCharacteristics(p->real) & ~(SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL
                                                                   | SQLITE_IOCAP_POWERSAFE_OVERWRITE | SQLITE_IOCAP_BATCH_ATOMIC);
}
static int simShmMap(sqlite3_file *f, int page, int size, int extend, void volatile **pp) {
    SimFile *p = (SimFile *)f;
    return p->real->pMethods->xShmMap(p->real, page, size, extend, pp);
}
static int simShmLock(sqlite3_file *f, int offset, int n, int flags) {
    SimFile *p = (SimFile *)f;
    return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}
static void simShmBarrier(sqlite3_file *f) { SimFile *p = (SimFile *)f; p->real->pMethods->xShmBarrier(p->real); }
static int simShmUnmap(sqlite3_file *f, int deleteFlag) { SimFile *p = (SimFile *)f; return p->real->pMethods->xShmUnmap(p->real, deleteFlag); }

static const sqlite3_io_methods simIoMethods = {
    2, simClose, simRead, simWrite, simTruncate, simSync, simFileSize, simLock, simUnlock, simCheckReservedLock,
    simFileControl, simSectorSize, simDeviceCharacteristics, simShmMap, simShmLock, simShmBarrier, simShmUnmap,
    NULL, NULL,
};

static int simOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
    (void)vfs;
    SimFile *p = (SimFile *)f;
    memset(p, 0, sizeof(SimFile));
    p->real = (sqlite3_file *)&p[1];
    int rc = baseVfs->xOpen(baseVfs, name, p->real, flags, outFlags);
    if (p->real->pMethods == NULL) {
        p->base.pMethods = NULL;
        return rc;
    }
    p->path = name ? strdup(name) : NULL;
    pthread_mutex_lock(&lock);
    p->disk = diskOf(name);
    pthread_mutex_unlock(&lock);
    p->base.pMethods = &simIoMethods;
    return rc;
}

static int simDelete(sqlite3_vfs *vfs, const char *name, int syncDir) {
    (void)vfs;
    pthread_mutex_lock(&lock);
    int id = diskOf(name);
    if (id >= 0) {
        if (disks[id].dead) { pthread_mutex_unlock(&lock); return SQLITE_IOERR_DELETE; }
        dropEntries(&disks[id], name);
    }
    pthread_mutex_unlock(&lock);
    return baseVfs->xDelete(baseVfs, name, syncDir);
}

static int simAccess(sqlite3_vfs *v, const char *name, int flags, int *out) { (void)v; return baseVfs->xAccess(baseVfs, name, flags, out); }
static int simFullPathname(sqlite3_vfs *v, const char *name, int n, char *out) { (void)v; return baseVfs->xFullPathname(baseVfs, name, n, out); }
static void *simDlOpen(sqlite3_vfs *v, const char *name) { (void)v; return baseVfs->xDlOpen(baseVfs, name); }
static void simDlError(sqlite3_vfs *v, int n, char *out) { (void)v; baseVfs->xDlError(baseVfs, n, out); }
static void (*simDlSym(sqlite3_vfs *v, void *h, const char *sym))(void) { (void)v; return baseVfs->xDlSym(baseVfs, h, sym); }
static void simDlClose(sqlite3_vfs *v, void *h) { (void)v; baseVfs->xDlClose(baseVfs, h); }
static int simRandomness(sqlite3_vfs *v, int n, char *out) { (void)v; return baseVfs->xRandomness(baseVfs, n, out); }
static int simSleep(sqlite3_vfs *v, int micros) { (void)v; return baseVfs->xSleep(baseVfs, micros); }
static int simCurrentTime(sqlite3_vfs *v, double *out) { (void)v; return baseVfs->xCurrentTime(baseVfs, out); }
static int simGetLastError(sqlite3_vfs *v, int n, char *out) { (void)v; return baseVfs->xGetLastError(baseVfs, n, out); }
static int simCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *out) { (void)v; return baseVfs->xCurrentTimeInt64(baseVfs, out); }

int simdisk_install(void) {
    pthread_mutex_lock(&lock);
    if (baseVfs) { pthread_mutex_unlock(&lock); return SQLITE_OK; }
    sqlite3_initialize();
    baseVfs = sqlite3_vfs_find(NULL);
    if (!baseVfs) { pthread_mutex_unlock(&lock); return SQLITE_ERROR; }
    memset(&simVfs, 0, sizeof(simVfs));
    simVfs.iVersion = 2;
    simVfs.szOsFile = (int)sizeof(SimFile) + baseVfs->szOsFile;
    simVfs.mxPathname = baseVfs->mxPathname;
    simVfs.zName = "simdisk";
    simVfs.xOpen = simOpen;
    simVfs.xDelete = simDelete;
    simVfs.xAccess = simAccess;
    simVfs.xFullPathname = simFullPathname;
    simVfs.xDlOpen = simDlOpen;
    simVfs.xDlError = simDlError;
    simVfs.xDlSym = simDlSym;
    simVfs.xDlClose = simDlClose;
    simVfs.xRandomness = simRandomness;
    simVfs.xSleep = simSleep;
    simVfs.xCurrentTime = simCurrentTime;
    simVfs.xGetLastError = simGetLastError;
    simVfs.xCurrentTimeInt64 = simCurrentTimeInt64;
    int rc = sqlite3_vfs_register(&simVfs, 1);
    pthread_mutex_unlock(&lock);
    return rc;
}
