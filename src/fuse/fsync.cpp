#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"

namespace mapfs::ops {

// msync of a write window's pages; each handle hears every writeback error
// of its file once (open_handle.hpp).
void fsync(fuse_req_t request, fuse_ino_t ino, int, fuse_file_info* info) noexcept {
    const auto handle = handle_of(request, ino, info);
    fuse_reply_err(request, handle == nullptr ? EBADF : handle->sync());
}

}  // namespace mapfs::ops
