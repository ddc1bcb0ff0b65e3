#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "namespace/status.hpp"

namespace mapfs::ops {

namespace {

// 0 when the change is made (times: accepted, not stored), else the errno
// that refuses it.
int apply(Window* window, const struct stat& wanted, int to_set, bool open_truncation, bool read_only) {
    if ((to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0)
        return read_only ? EROFS : EPERM;  // ownership and mode come from configuration
    if ((to_set & FUSE_SET_ATTR_SIZE) == 0) return 0;
    if (window == nullptr) return EISDIR;
    // An O_TRUNC open is accepted with the size kept, for everyone
    // ("> window" works). Otherwise a window has a fixed length, like a
    // block device, unless it is the only window of anonymous memory.
    if (open_truncation || static_cast<std::uint64_t>(wanted.st_size) == window->length_bytes()) return 0;
    if (wanted.st_size < 0) return EINVAL;
    if (read_only) return EROFS;
    return window->resize(static_cast<std::uint64_t>(wanted.st_size));
}

}  // namespace

void setattr(fuse_req_t request, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* info) noexcept {
    const Filesystem& filesystem = filesystem_of(request);
    if (is_status_inode(ino)) {
        fuse_reply_err(request, filesystem.read_only ? EROFS : EPERM);
        return;
    }
    const auto registry = filesystem.current_registry();
    // A handle that outlived a reload answers as its own window.
    const auto handle = handle_of(request, ino, info);
    std::shared_ptr<Window> window = handle != nullptr ? handle->shared_window() : nullptr;
    const Node* node = registry->find(ino);
    if (window == nullptr && node != nullptr) window = node->window;
    if (window == nullptr && node == nullptr) window = filesystem.open_index.window_of(ino);
    if (window == nullptr && node == nullptr) {
        fuse_reply_err(request, ENOENT);
        return;
    }
    // The SETATTR that follows an open(O_TRUNC): see OpenHandle::claim_open_truncation.
    const bool open_truncation = info == nullptr && (to_set & FUSE_SET_ATTR_SIZE) != 0 && attr->st_size == 0 &&
                                 filesystem.open_index.claim_open_truncation(ino, fuse_req_ctx(request)->pid);
    if (const int error = apply(window.get(), *attr, to_set, open_truncation, filesystem.read_only); error != 0) {
        fuse_reply_err(request, error);
        return;
    }
    const struct stat current = window != nullptr ? registry->window_attributes(*window, ino) : registry->attributes(ino);
    fuse_reply_attr(request, &current, filesystem.attr_timeout_s);
}

}  // namespace mapfs::ops
