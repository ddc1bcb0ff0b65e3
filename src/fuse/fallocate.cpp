#include <linux/falloc.h>

#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "fuse/stale_copies.hpp"

namespace mapfs::ops {

namespace {

// 0 when `mode` over [offset, offset + length) may go ahead, else the errno.
int refusal(const Window& window, int mode, std::uint64_t offset, std::uint64_t length) {
    const bool discard = (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) != 0;
    // Every byte of a window exists already; what would change its size,
    // or move bytes (collapse, insert), is not on offer.
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) != 0) return EOPNOTSUPP;
    if ((mode & FALLOC_FL_PUNCH_HOLE) != 0 && (mode & FALLOC_FL_ZERO_RANGE) != 0) return EINVAL;
    if (discard && window.access() == Access::read) return EBADF;
    const auto end = checked_end(offset, length);
    if (!end || offset >= window.length_bytes()) return ENOSPC;
    // A discard cannot reach past the window: that would be past the disk.
    if (*end > window.length_bytes()) return discard ? EINVAL : ENOSPC;
    return 0;
}

}  // namespace

// Mode 0 and KEEP_SIZE: every byte exists already, nothing to do. PUNCH_HOLE
// and ZERO_RANGE: discard, like fstrim on a disk (Window::discard); other
// windows' cached copies of the bytes are dropped.
void fallocate(fuse_req_t request, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info* info) noexcept {
    const auto handle = handle_of(request, ino, info);
    if (handle == nullptr || handle->window() == nullptr || offset < 0 || length <= 0) {
        fuse_reply_err(request, handle == nullptr || handle->window() == nullptr ? EBADF : EINVAL);
        return;
    }
    const Window& window = *handle->window();
    const auto from = static_cast<std::uint64_t>(offset);
    const auto bytes = static_cast<std::uint64_t>(length);
    if (const int error = refusal(window, mode, from, bytes); error != 0) {
        fuse_reply_err(request, error);
        return;
    }
    if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) == 0) {
        fuse_reply_err(request, 0);
        return;
    }
    const int error = window.discard(from, bytes, (mode & FALLOC_FL_PUNCH_HOLE) != 0);
    if (error == 0 && window.shares_region_mapping()) drop_stale_copies(filesystem_of(request), handle->ino(), window, from, bytes);
    fuse_reply_err(request, error);
}

}  // namespace mapfs::ops
