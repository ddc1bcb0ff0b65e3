#include "fuse/operations.hpp"

namespace mapfs::ops {

// Writes are in the mapping when they are answered: nothing to flush. (The
// kernel is told noflush at open and sends FLUSH only on request.)
void flush(fuse_req_t request, fuse_ino_t, fuse_file_info*) noexcept { fuse_reply_err(request, 0); }

}  // namespace mapfs::ops
