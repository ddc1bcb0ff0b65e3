// Extended attributes: a window made from a partition table shows its
// partition's name, type and number as user.mapfs.partition.*; nothing else
// has any. setxattr and removexattr are refused (refuse.cpp).
//
// A mount without partition windows answers ENOSYS, after which the kernel
// asks no more for the whole connection: `ls -l` asks two attributes of
// every file (SELinux label, ACL), which doubled the requests of listing
// 100,000 windows and took it from 0.6 to 5 s. (A reload that adds
// partitions later finds them unasked for until the next mount.)
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"

namespace mapfs::ops {

namespace {

// The attributes of `ino`: (name, value) pairs.
std::vector<std::pair<std::string, std::string>> attributes_of(const Filesystem& filesystem, fuse_ino_t ino) {
    const auto registry = filesystem.current_registry();
    const Node* node = registry->find(ino);
    std::shared_ptr<Window> window = node != nullptr ? node->window : filesystem.open_index.window_of(ino);
    if (window == nullptr || !window->partition()) return {};
    const PartitionLabel& label = *window->partition();
    std::vector<std::pair<std::string, std::string>> attributes;
    if (!label.name.empty()) attributes.emplace_back("user.mapfs.partition.name", label.name);
    attributes.emplace_back("user.mapfs.partition.type", label.type);
    attributes.emplace_back("user.mapfs.partition.number", std::to_string(label.number));
    attributes.emplace_back("user.mapfs.partition.scheme", label.scheme);
    return attributes;
}

// Replies with `value`, or its size when asked for 0 bytes, or ERANGE.
void reply_value(fuse_req_t request, const std::string& value, std::size_t size) {
    if (size == 0) fuse_reply_xattr(request, value.size());
    else if (size < value.size()) fuse_reply_err(request, ERANGE);
    else fuse_reply_buf(request, value.data(), value.size());
}

}  // namespace

void getxattr(fuse_req_t request, fuse_ino_t ino, const char* name, std::size_t size) noexcept {
    if (!filesystem_of(request).current_registry()->has_attributes()) {
        fuse_reply_err(request, ENOSYS);
        return;
    }
    try {
        for (const auto& [key, value] : attributes_of(filesystem_of(request), ino)) {
            if (key != name) continue;
            reply_value(request, value, size);
            return;
        }
        fuse_reply_err(request, ENODATA);
    } catch (const std::bad_alloc&) {
        fuse_reply_err(request, ENOMEM);
    }
}

void listxattr(fuse_req_t request, fuse_ino_t ino, std::size_t size) noexcept {
    if (!filesystem_of(request).current_registry()->has_attributes()) {
        fuse_reply_err(request, ENOSYS);
        return;
    }
    try {
        std::string names;
        for (const auto& [key, value] : attributes_of(filesystem_of(request), ino)) names += key + '\0';
        reply_value(request, names, size);
    } catch (const std::bad_alloc&) {
        fuse_reply_err(request, ENOMEM);
    }
}

}  // namespace mapfs::ops
