#include <cerrno>

#include "fuse/operations.hpp"
#include "fuse/filesystem.hpp"

namespace mapfs::ops {

namespace {

// The set of windows comes from configuration; the mount cannot change it.
void refuse(fuse_req_t request) {
    fuse_reply_err(request, filesystem_of(request).read_only ? EROFS : EPERM);
}

}  // namespace

void mknod(fuse_req_t request, fuse_ino_t, const char*, mode_t, dev_t) noexcept { refuse(request); }
void mkdir(fuse_req_t request, fuse_ino_t, const char*, mode_t) noexcept { refuse(request); }
void unlink(fuse_req_t request, fuse_ino_t, const char*) noexcept { refuse(request); }
void rmdir(fuse_req_t request, fuse_ino_t, const char*) noexcept { refuse(request); }
void symlink(fuse_req_t request, const char*, fuse_ino_t, const char*) noexcept { refuse(request); }
void rename(fuse_req_t request, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned int) noexcept {
    refuse(request);
}
void link(fuse_req_t request, fuse_ino_t, fuse_ino_t, const char*) noexcept { refuse(request); }
void create(fuse_req_t request, fuse_ino_t, const char*, mode_t, fuse_file_info*) noexcept { refuse(request); }
void setxattr(fuse_req_t request, fuse_ino_t, const char*, const char*, std::size_t, int) noexcept {
    refuse(request);
}
void removexattr(fuse_req_t request, fuse_ino_t, const char*) noexcept { refuse(request); }

}  // namespace mapfs::ops
