#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "namespace/status.hpp"

namespace mapfs::ops {

void getattr(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    run_after_init(filesystem);
    const auto registry = filesystem.current_registry();
    if (is_status_inode(ino)) {
        const struct stat attr = status_attributes(ino, *registry);
        fuse_reply_attr(request, &attr, filesystem.attr_timeout_s);
        return;
    }
    if (registry->find(ino) != nullptr) {
        const struct stat attr = registry->attributes(ino);
        fuse_reply_attr(request, &attr, filesystem.attr_timeout_s);
        return;
    }
    // An open file whose window a reload removed or replaced (fstat sends
    // GETATTR without its handle).
    const auto handle = handle_of(request, ino, info);
    const auto window = handle != nullptr ? handle->shared_window() : filesystem.open_index.window_of(ino);
    if (window == nullptr) {
        fuse_reply_err(request, ENOENT);
        return;
    }
    const struct stat attr = registry->window_attributes(*window, ino);
    fuse_reply_attr(request, &attr, filesystem.attr_timeout_s);
}

}  // namespace mapfs::ops
