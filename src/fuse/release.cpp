#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"

namespace mapfs::ops {

// The table lets go of the handle; a request still finishing on it keeps it
// (and its window) alive until that request is done.
void release(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept {
    const std::shared_ptr<OpenHandle> handle = filesystem_of(request).handles.erase(info->fh, ino);
    fuse_reply_err(request, 0);
}

}  // namespace mapfs::ops
