// The system's Zstandard (Debian: libzstd-dev), for the stores' payload compression.
#include <zstd.h>
