#include <sys/statvfs.h>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"

namespace mapfs::ops {

void statfs(fuse_req_t request, fuse_ino_t) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    run_after_init(filesystem);
    const auto registry = filesystem.current_registry();
    struct statvfs info {};
    info.f_bsize = 4096;
    info.f_frsize = 4096;
    info.f_blocks = (registry->total_window_bytes() + info.f_frsize - 1) / info.f_frsize;
    info.f_files = registry->window_count() + registry->directory_count();
    info.f_namemax = 255;
    fuse_reply_statfs(request, &info);
}

}  // namespace mapfs::ops
