// The mount's namespace: directories and window files, their inode numbers,
// name lookup and attributes. Immutable once built, so FUSE threads read it
// without locks; a reload builds a new one and swaps it in.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/window.hpp"
#include "namespace/overlap_index.hpp"

namespace mapfs {

using InodeNumber = std::uint64_t;
inline constexpr InodeNumber root_inode = 1;
// 2 and 3 are .mapfs and .mapfs/status (status.hpp); windows and their
// directories are numbered from 4 on.
inline constexpr InodeNumber first_window_inode = 4;

struct Node {
    InodeNumber ino = root_inode;
    InodeNumber parent = root_inode;
    std::string name;                   // one path component; empty for the root
    std::shared_ptr<Window> window;     // null for a directory
    std::vector<InodeNumber> children;  // directories only, sorted by name
    bool is_directory() const noexcept { return window == nullptr; }
};

struct Ownership {
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t directory_mode = 0755;
    mode_t status_mode = 0400;  // .mapfs/status: the owner's only, unless shared
    std::timespec time{};  // shown as atime, mtime and ctime
};

// "uid:gid:directory mode:status mode": what the directories and the status
// file show, compared across a reload or a takeover.
std::string ownership_text(const Ownership& ownership);

// The inode numbers of a mount by path, with what each window there showed
// (window_identity.hpp) and its settings: what a reload compares the new
// configuration with, and what a server that takes the mount over gets from
// the one before it. A window whose path and identity are unchanged keeps
// its number; a changed one never gets an old number.
struct InodeNumbering {
    struct Entry {
        InodeNumber ino = 0;
        std::string identity;  // empty for a directory
        std::string settings;  // empty for a directory, or when not known
    };
    std::map<std::string, Entry> by_path;
    InodeNumber next_free = first_window_inode;
    std::string ownership;  // ownership_text(): the root's and the status file's attributes
};

class Registry {
public:
    // Window names must be valid and free of file/directory clashes. The
    // root is inode 1. Without `previous` the other nodes are numbered from
    // `first_window_inode` on in order. With `previous` (the running
    // registry's numbering at a reload, the previous server's at a
    // takeover), a window whose path and identity are there keeps its
    // number, and so does a directory with the same path, so that the
    // kernel's cached names, attributes and pages of what did not change stay
    // valid; every other node gets a number `previous` never used, so that
    // the kernel can never confuse a new window with an old one.
    Registry(std::vector<std::shared_ptr<Window>> windows, Ownership ownership, const InodeNumbering* previous = nullptr);

    const Node* find(InodeNumber ino) const noexcept;
    // 0 when `parent` has no entry `name`.
    InodeNumber lookup(InodeNumber parent, std::string_view name) const noexcept;
    // The node at `path` ("disk/p1"; "" is the root), or 0.
    InodeNumber resolve(std::string_view path) const noexcept;
    // The path of `ino` from the root ("disk/p1").
    std::string path_of(InodeNumber ino) const;

    struct stat attributes(InodeNumber ino) const noexcept;
    // Attributes of a window as inode `ino`, whether or not it is still in
    // this registry (an open file may outlive a reload).
    struct stat window_attributes(const Window& window, InodeNumber ino) const noexcept;
    const Ownership& ownership() const noexcept { return ownership_; }

    std::size_t window_count() const noexcept { return window_inodes_.size(); }
    std::size_t region_count() const noexcept { return region_count_; }
    // Whether any window has extended attributes (a partition's labels).
    bool has_attributes() const noexcept { return has_attributes_; }
    std::size_t directory_count() const noexcept { return nodes_.size() - window_inodes_.size(); }
    // Window inodes in configuration order.
    const std::vector<InodeNumber>& window_inodes() const noexcept { return window_inodes_; }
    std::vector<std::shared_ptr<Window>> windows() const;
    std::uint64_t total_window_bytes() const noexcept { return total_window_bytes_; }
    // The lowest number no node of this registry or of any it replaced has had.
    InodeNumber next_free_inode() const noexcept { return next_free_inode_; }
    // Every node's number by path, for a server that takes over.
    InodeNumbering numbering() const;

    // Calls visit(inode, window) for every window of file `file` whose bytes
    // overlap [start, end) of the file and whose pages the kernel may keep
    // after the last close (`keep`, and `cto` between unchanged opens), so
    // that a write reaches them even then.
    template <class Visit>
    void for_each_caching_window(const FileIdentity& file, std::uint64_t start, std::uint64_t end, Visit&& visit) const {
        const auto found = caching_windows_.find(file);
        if (found == caching_windows_.end()) return;
        found->second.for_each_overlap(start, end, [&](std::uint32_t id) {
            const InodeNumber ino = window_inodes_[id];
            visit(ino, *find(ino)->window);
        });
    }

private:
    class Builder;

    std::vector<Node> nodes_;  // sorted by inode number; [0] is the root
    bool dense_ = true;        // nodes_[i].ino == nodes_[1].ino + i - 1 for i >= 1
    std::vector<InodeNumber> window_inodes_;
    std::map<FileIdentity, OverlapIndex> caching_windows_;
    Ownership ownership_;
    std::uint64_t total_window_bytes_ = 0;
    std::size_t region_count_ = 0;
    bool has_attributes_ = false;
    InodeNumber next_free_inode_ = first_window_inode;
};

}  // namespace mapfs
