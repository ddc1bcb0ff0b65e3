#include <cstdlib>
#include <exception>

#include "base/log.hpp"
#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"

namespace mapfs::ops {

void init(void* userdata, fuse_conn_info* connection) noexcept {
    // No atomic O_TRUNC: with it the kernel itself sets the size to 0 and
    // drops the page cache at an O_TRUNC open, dirty pages of other
    // processes' mappings included. Without it the kernel asks with a
    // SETATTR, which mapfs answers with the size unchanged (setattr.cpp).
    connection->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
    // Sizes and mtimes never change: no point re-checking them on each read.
    connection->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    // Write-through keeps every write visible in the mapping at once.
    connection->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    if ((connection->capable & FUSE_CAP_PARALLEL_DIROPS) != 0) connection->want |= FUSE_CAP_PARALLEL_DIROPS;
    log::debug("kernel connection: max_write {} max_read {} max_readahead {}", connection->max_write,
               connection->max_read, connection->max_readahead);
    static_cast<Filesystem*>(userdata)->max_write = connection->max_write;
    connection->max_read = static_cast<Filesystem*>(userdata)->max_read;
    // INIT is the first request the session loop answers: from here on the
    // mount answers, which is what READY=1 promises systemd.
    Filesystem& filesystem = *static_cast<Filesystem*>(userdata);
    if (!filesystem.on_ready) return;
    try {
        filesystem.on_ready();
    } catch (const std::exception& error) {  // no memory or no thread: serve anyway
        log::error("cannot announce that the mount is ready: {}", error.what());
    }
}

}  // namespace mapfs::ops
