// The windows that have open file handles, by inode number. After a reload
// an open file's inode may be gone from the registry, yet the kernel still
// asks for its attributes (fstat sends GETATTR without a file handle), and
// its cached pages must still be dropped when an overlapping window is
// written. Open and release update it; the write path reads it only while
// such retired windows are open.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "namespace/registry.hpp"

namespace mapfs {

class OpenWindows {
public:
    // False when out of memory (nothing recorded).
    bool opened(InodeNumber ino, const std::shared_ptr<Window>& window) noexcept;
    void closed(InodeNumber ino);
    std::shared_ptr<Window> find(InodeNumber ino) const;

    // After a reload: marks the open windows that `current` no longer holds.
    void retire_missing(const Registry& current);
    bool any_retired() const noexcept { return retired_.load(std::memory_order_relaxed) != 0; }
    // Calls visit(inode, window) for every retired open window.
    template <class Visit>
    void for_each_retired(Visit&& visit) const {
        std::lock_guard lock(mutex_);
        for (const auto& [ino, entry] : entries_)
            if (entry.retired) visit(ino, *entry.window);
    }

private:
    struct Entry {
        std::shared_ptr<Window> window;
        std::size_t handles = 0;
        bool retired = false;
    };
    mutable std::mutex mutex_;
    std::unordered_map<InodeNumber, Entry> entries_;
    std::atomic<std::size_t> retired_{0};
};

}  // namespace mapfs
