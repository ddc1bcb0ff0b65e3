#include <unistd.h>

#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"

namespace mapfs::ops {

// SEEK_DATA and SEEK_HOLE (the kernel answers the other whences itself):
// the holes of a sparse backing file show through its windows, so that
// cp --sparse and qemu-img see them.
void lseek(fuse_req_t request, fuse_ino_t ino, off_t offset, int whence, fuse_file_info* info) noexcept {
    const auto handle = handle_of(request, ino, info);
    if (handle == nullptr || handle->window() == nullptr) {
        fuse_reply_err(request, handle == nullptr ? EBADF : EINVAL);
        return;
    }
    if ((whence != SEEK_DATA && whence != SEEK_HOLE) || offset < 0) {
        fuse_reply_err(request, offset < 0 ? ENXIO : EINVAL);
        return;
    }
    const auto found = handle->window()->seek(static_cast<std::uint64_t>(offset), whence);
    if (!found) fuse_reply_err(request, found.error());
    else fuse_reply_lseek(request, static_cast<off_t>(*found));
}

}  // namespace mapfs::ops
