#include "fuse/operations.hpp"

namespace mapfs::ops {

// Inode numbers are never reused and a node lives as long as its registry,
// so the kernel's lookup counts need no bookkeeping.
void forget(fuse_req_t request, fuse_ino_t, std::uint64_t) noexcept { fuse_reply_none(request); }
void forget_multi(fuse_req_t request, std::size_t, fuse_forget_data*) noexcept { fuse_reply_none(request); }

}  // namespace mapfs::ops
