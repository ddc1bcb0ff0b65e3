// The mount's namespace: directories and window files, their inode numbers,
// name lookup, attributes and which windows overlap a write. Immutable once
// built, so FUSE threads read it without locks.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapfs/overlap_index.hpp"
#include "mapfs/window.hpp"

namespace mapfs {

using InodeNumber = std::uint64_t;
inline constexpr InodeNumber root_inode = 1;

struct Node {
    InodeNumber parent = root_inode;
    std::string name;                 // one path component; empty for the root
    std::shared_ptr<Window> window;   // null for a directory
    std::vector<InodeNumber> children;  // directories only, sorted by name
    bool is_directory() const noexcept { return window == nullptr; }
};

struct Ownership {
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t directory_mode = 0755;
    std::timespec time{};  // shown as atime, mtime and ctime
};

class Registry {
public:
    // Window names must be valid and free of file/directory clashes.
    Registry(std::vector<std::shared_ptr<Window>> windows, Ownership ownership);

    const Node* find(InodeNumber ino) const noexcept;
    // 0 when `parent` has no entry `name`.
    InodeNumber lookup(InodeNumber parent, std::string_view name) const noexcept;
    struct stat attributes(InodeNumber ino) const noexcept;

    std::size_t window_count() const noexcept { return window_inodes_.size(); }
    std::size_t region_count() const noexcept { return region_count_; }
    std::size_t directory_count() const noexcept { return nodes_.size() - window_inodes_.size(); }
    const std::vector<InodeNumber>& window_inodes() const noexcept { return window_inodes_; }
    std::uint64_t total_window_bytes() const noexcept { return total_window_bytes_; }

    // Calls visit(inode, window) for every window other than `writer` whose
    // bytes overlap [offset, offset + length) of the writer's region mapping.
    template <class Visit>
    void for_each_overlapping(const Window& writer, std::uint64_t region_offset,
                              std::uint64_t length, Visit&& visit) const {
        const auto found = overlaps_.find(&writer.region());
        if (found == overlaps_.end()) return;
        found->second.for_each_overlap(region_offset, region_offset + length, [&](std::uint32_t id) {
            const InodeNumber ino = window_inodes_[id];
            const Window& other = *nodes_[ino - 1].window;
            if (&other != &writer) visit(ino, other);
        });
    }

private:
    InodeNumber add_node(InodeNumber parent, std::string name, std::shared_ptr<Window> window);
    InodeNumber directory_for(std::string_view path);
    void sort_children();
    void build_overlap_indexes();

    std::vector<Node> nodes_;  // inode number = index + 1
    std::vector<InodeNumber> window_inodes_;
    std::unordered_map<std::string, InodeNumber> directories_by_path_;  // used while building
    std::unordered_map<const Region*, OverlapIndex> overlaps_;
    Ownership ownership_;
    std::uint64_t total_window_bytes_ = 0;
    std::size_t region_count_ = 0;
};

}  // namespace mapfs
