#include <sys/statvfs.h>

#include <cerrno>

#include "fuse/operations.hpp"
#include "fuse/filesystem.hpp"
#include "namespace/status.hpp"

namespace mapfs::ops {

void lookup(fuse_req_t request, fuse_ino_t parent, const char* name) noexcept {
    const Filesystem& filesystem = filesystem_of(request);
    const auto registry = filesystem.current_registry();
    const InodeNumber status = status_lookup(parent, name);
    const InodeNumber ino = status != 0 ? status : registry->lookup(parent, name);
    if (ino == 0) {
        fuse_reply_err(request, ENOENT);
        return;
    }
    fuse_entry_param entry{};
    entry.ino = ino;
    entry.generation = 1;
    entry.attr = status != 0 ? status_attributes(ino, *registry) : registry->attributes(ino);
    entry.attr_timeout = filesystem.attr_timeout_s;
    entry.entry_timeout = filesystem.entry_timeout_s;
    fuse_reply_entry(request, &entry);
}

// Inodes live as long as the registry; the kernel's lookup counts need no
// bookkeeping.
void forget(fuse_req_t request, fuse_ino_t, std::uint64_t) noexcept { fuse_reply_none(request); }
void forget_multi(fuse_req_t request, std::size_t, fuse_forget_data*) noexcept { fuse_reply_none(request); }

void getattr(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept {
    const Filesystem& filesystem = filesystem_of(request);
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
    // An open file whose window a reload removed or replaced.
    const auto window = info != nullptr && info->fh != 0 ? open_file_of(info).window : filesystem.open_windows.find(ino);
    if (window == nullptr) {
        fuse_reply_err(request, ENOENT);
        return;
    }
    const struct stat attr = registry->window_attributes(*window, ino);
    fuse_reply_attr(request, &attr, filesystem.attr_timeout_s);
}

namespace {

// 0 when the change is allowed, else the errno that refuses it.
int setattr_refusal(const Node& node, const struct stat& wanted, int to_set, bool read_only) {
    if ((to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0)
        return read_only ? EROFS : EPERM;  // ownership and mode come from configuration
    if ((to_set & FUSE_SET_ATTR_SIZE) == 0) return 0;  // times: accepted, not stored
    if (node.is_directory()) return EISDIR;
    // A window has a fixed length, like a block device.
    if (static_cast<std::uint64_t>(wanted.st_size) != node.window->length_bytes()) return EINVAL;
    return 0;
}

}  // namespace

void setattr(fuse_req_t request, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) noexcept {
    const Filesystem& filesystem = filesystem_of(request);
    const auto registry = filesystem.current_registry();
    if (is_status_inode(ino)) {
        fuse_reply_err(request, filesystem.read_only ? EROFS : EPERM);
        return;
    }
    const Node* node = registry->find(ino);
    if (node == nullptr) {
        fuse_reply_err(request, ENOENT);
        return;
    }
    if (const int refusal = setattr_refusal(*node, *attr, to_set, filesystem.read_only); refusal != 0) {
        fuse_reply_err(request, refusal);
        return;
    }
    const struct stat current = registry->attributes(ino);
    fuse_reply_attr(request, &current, filesystem.attr_timeout_s);
}

void statfs(fuse_req_t request, fuse_ino_t) noexcept {
    const auto current = filesystem_of(request).current_registry();
    const Registry& registry = *current;
    struct statvfs info {};
    info.f_bsize = 4096;
    info.f_frsize = 4096;
    info.f_blocks = (registry.total_window_bytes() + info.f_frsize - 1) / info.f_frsize;
    info.f_files = registry.window_count() + registry.directory_count();
    info.f_namemax = 255;
    fuse_reply_statfs(request, &info);
}

}  // namespace mapfs::ops
