#include <cerrno>
#include <vector>

#include "fuse/operations.hpp"
#include "fuse/filesystem.hpp"
#include "namespace/status.hpp"

namespace mapfs::ops {

void opendir(fuse_req_t request, fuse_ino_t ino, fuse_file_info* info) noexcept {
    // The registry must outlive `node`: a reload may drop the last other reference.
    const auto registry = filesystem_of(request).current_registry();
    const Node* node = registry->find(ino);
    if (ino != status_directory_inode && (node == nullptr || !node->is_directory())) {
        fuse_reply_err(request, node == nullptr ? ENOENT : ENOTDIR);
        return;
    }
    // Listings change only by a reload, which drops the cached ones
    // (reloader.cpp): let the kernel keep them.
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

// Adds one entry; false when the buffer is full.
bool add_entry(fuse_req_t request, std::vector<char>& buffer, std::size_t& used, const char* name,
               const struct stat& attr, off_t next, bool plus, bool counts_lookup, const Filesystem& filesystem) {
    const std::size_t room = buffer.size() - used;
    std::size_t needed = 0;
    if (plus) {
        fuse_entry_param param{};
        // "." and ".." are not looked up through readdirplus.
        if (counts_lookup) {
            param.ino = attr.st_ino;
            param.generation = 1;
            param.attr_timeout = filesystem.attr_timeout_s;
            param.entry_timeout = filesystem.entry_timeout_s;
        }
        param.attr = attr;
        needed = fuse_add_direntry_plus(request, buffer.data() + used, room, name, &param, next);
    } else {
        needed = fuse_add_direntry(request, buffer.data() + used, room, name, &attr, next);
    }
    if (needed > room) return false;
    used += needed;
    return true;
}

void list_status_directory(fuse_req_t request, const Registry& registry, std::size_t size, off_t offset, bool plus,
                           const Filesystem& filesystem) {
    std::vector<char> buffer(size);
    std::size_t used = 0;
    for (std::size_t index = static_cast<std::size_t>(offset); index < status_directory_entries; ++index) {
        const auto [name, entry_ino] = status_directory_entry(index);
        const struct stat attr = entry_ino == root_inode ? registry.attributes(root_inode) : status_attributes(entry_ino, registry);
        if (!add_entry(request, buffer, used, name, attr, static_cast<off_t>(index + 1), plus, index >= 2, filesystem)) break;
    }
    fuse_reply_buf(request, buffer.data(), used);
}

void list(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, bool plus) {
    const Filesystem& filesystem = filesystem_of(request);
    const auto current = filesystem.current_registry();
    const Registry& registry = *current;
    if (ino == status_directory_inode) {
        list_status_directory(request, registry, size, offset, plus, filesystem);
        return;
    }
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
        const struct stat attr = registry.attributes(entry.ino);
        if (!add_entry(request, buffer, used, entry.name, attr, static_cast<off_t>(index + 1), plus, index >= 2, filesystem))
            break;
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
