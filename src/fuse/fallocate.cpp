#include <linux/falloc.h>

#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"

namespace mapfs::ops {

void fallocate(fuse_req_t request, fuse_ino_t, int mode, off_t offset, off_t length,
               fuse_file_info* info) noexcept {
    const auto handle = handle_of(request, info);
    if (handle == nullptr || handle->window() == nullptr) {
        fuse_reply_err(request, EBADF);
        return;
    }
    // Every byte of a window already exists; anything that would change the
    // size or punch holes is not on offer.
    if ((mode & ~FALLOC_FL_KEEP_SIZE) != 0) {
        fuse_reply_err(request, EOPNOTSUPP);
        return;
    }
    const auto end = checked_end(static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(length));
    fuse_reply_err(request, !end || *end > handle->window()->length_bytes() ? ENOSPC : 0);
}

}  // namespace mapfs::ops
