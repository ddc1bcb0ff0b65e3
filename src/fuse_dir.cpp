#include <cerrno>
#include <vector>

#include "fuse_ops.hpp"
#include "mapfs/filesystem.hpp"

namespace mapfs::ops {

void opendir(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept {
    const Node* node = filesystem_of(request).current_registry()->find(ino);
    if (node == nullptr || !node->is_directory()) {
        fuse_reply_err(request, node == nullptr ? ENOENT : ENOTDIR);
        return;
    }
    // Directories never change while mounted: let the kernel cache listings.
    info->cache_readdir = 1;
    info->keep_cache = 1;
    fuse_reply_open(request, info);
}

void releasedir(fuse_req_t request, fuse_ino_t, fuse_file_info*) noexcept { fuse_reply_err(request, 0); }

namespace {

// Entry `offset` of a directory: 0 is ".", 1 is "..", then the children.
struct DirectoryEntry {
    const char* name;
    InodeNumber ino;
};

DirectoryEntry entry_at(const Registry& registry, const Node& directory, InodeNumber self, std::size_t index) {
    if (index == 0) return {".", self};
    if (index == 1) return {"..", directory.parent};
    const InodeNumber child = directory.children[index - 2];
    return {registry.find(child)->name.c_str(), child};
}

void list(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, bool plus) {
    const Filesystem& filesystem = filesystem_of(request);
    const auto current = filesystem.current_registry();
    const Registry& registry = *current;
    const Node* directory = registry.find(ino);
    if (directory == nullptr || !directory->is_directory()) {
        fuse_reply_err(request, ENOTDIR);
        return;
    }
    std::vector<char> buffer(size);
    std::size_t used = 0;
    const std::size_t count = directory->children.size() + 2;
    for (std::size_t index = static_cast<std::size_t>(offset); index < count; ++index) {
        const DirectoryEntry entry = entry_at(registry, *directory, ino, index);
        const off_t next = static_cast<off_t>(index + 1);
        std::size_t needed = 0;
        if (plus) {
            fuse_entry_param param{};
            // "." and ".." are not looked up through readdirplus.
            if (index >= 2) {
                param.ino = entry.ino;
                param.generation = 1;
                param.attr_timeout = filesystem.attr_timeout_s;
                param.entry_timeout = filesystem.entry_timeout_s;
            }
            param.attr = registry.attributes(entry.ino);
            needed = fuse_add_direntry_plus(request, buffer.data() + used, size - used, entry.name, &param, next);
        } else {
            const struct stat attr = registry.attributes(entry.ino);
            needed = fuse_add_direntry(request, buffer.data() + used, size - used, entry.name, &attr, next);
        }
        if (needed > size - used) break;
        used += needed;
    }
    fuse_reply_buf(request, buffer.data(), used);
}

void list_or_fail(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, bool plus) noexcept {
    try {
        list(request, ino, size, offset, plus);
    } catch (const std::bad_alloc&) {
        fuse_reply_err(request, ENOMEM);
    }
}

}  // namespace

void readdir(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info*) noexcept {
    list_or_fail(request, ino, size, offset, false);
}

void readdirplus(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info*) noexcept {
    list_or_fail(request, ino, size, offset, true);
}

}  // namespace mapfs::ops
