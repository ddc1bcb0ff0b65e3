// The mount's namespace: directories and window files, their inode numbers,
// name lookup, attributes and which windows overlap a write. Immutable once
// built, so FUSE threads read it without locks.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "namespace/overlap_index.hpp"
#include "mapping/window.hpp"

namespace mapfs {

using InodeNumber = std::uint64_t;
inline constexpr InodeNumber root_inode = 1;
// 2 and 3 are .mapfs and .mapfs/status (status.hpp); windows and their
// directories are numbered from 4 on.
inline constexpr InodeNumber first_window_inode = 4;

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
    // Window names must be valid and free of file/directory clashes. The
    // root is always inode 1; every other node gets a number from
    // `first_inode` on, so that a registry built by a reload never reuses a
    // number the kernel may still cache for an older window.
    Registry(std::vector<std::shared_ptr<Window>> windows, Ownership ownership,
             InodeNumber first_inode = first_window_inode);

    const Node* find(InodeNumber ino) const noexcept;
    // 0 when `parent` has no entry `name`.
    InodeNumber lookup(InodeNumber parent, std::string_view name) const noexcept;
    struct stat attributes(InodeNumber ino) const noexcept;
    // Attributes of a window as inode `ino`, whether or not it is still in
    // this registry (an open file may outlive a reload).
    struct stat window_attributes(const Window& window, InodeNumber ino) const noexcept;

    std::size_t window_count() const noexcept { return window_inodes_.size(); }
    std::size_t region_count() const noexcept { return region_count_; }
    // The first inode number a later registry may use.
    InodeNumber next_free_inode() const noexcept { return first_inode_ + nodes_.size() - 1; }
    std::size_t directory_count() const noexcept { return nodes_.size() - window_inodes_.size(); }
    const std::vector<InodeNumber>& window_inodes() const noexcept { return window_inodes_; }
    std::uint64_t total_window_bytes() const noexcept { return total_window_bytes_; }

    // Calls visit(inode, window) for every window other than `writer` whose
    // bytes overlap [offset, offset + length) of the writer's file (the
    // writer may belong to an earlier registry).
    template <class Visit>
    void for_each_overlapping(const Window& writer, std::uint64_t region_offset,
                              std::uint64_t length, Visit&& visit) const {
        const auto found = overlaps_.find(writer.region().identity());
        if (found == overlaps_.end()) return;
        found->second.for_each_overlap(region_offset, region_offset + length, [&](std::uint32_t id) {
            const InodeNumber ino = window_inodes_[id];
            const Window& other = *node_at(ino).window;
            if (&other != &writer) visit(ino, other);
        });
    }

private:
    const Node& node_at(InodeNumber ino) const noexcept { return nodes_[index_of(ino)]; }
    std::size_t index_of(InodeNumber ino) const noexcept {
        return ino == root_inode ? 0 : static_cast<std::size_t>(ino - first_inode_ + 1);
    }
    InodeNumber add_node(InodeNumber parent, std::string name, std::shared_ptr<Window> window);
    InodeNumber directory_for(std::string_view path);
    void sort_children();
    void build_overlap_indexes();

    InodeNumber first_inode_;
    std::vector<Node> nodes_;  // [0] is the root; [i] is inode first_inode_ + i - 1
    std::vector<InodeNumber> window_inodes_;
    std::unordered_map<std::string, InodeNumber> directories_by_path_;  // used while building
    std::map<FileIdentity, OverlapIndex> overlaps_;
    Ownership ownership_;
    std::uint64_t total_window_bytes_ = 0;
    std::size_t region_count_ = 0;
};

}  // namespace mapfs
