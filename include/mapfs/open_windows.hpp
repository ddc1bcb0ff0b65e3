// The windows that have open file handles, by inode number. After a reload
// an open file's inode may be gone from the registry, yet the kernel still
// asks for its attributes (fstat sends GETATTR without a file handle).
// Open and release update it; the read/write path never touches it.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "mapfs/registry.hpp"

namespace mapfs {

class OpenWindows {
public:
    // False when out of memory (nothing recorded).
    bool opened(InodeNumber ino, const std::shared_ptr<Window>& window) noexcept;
    void closed(InodeNumber ino);
    std::shared_ptr<Window> find(InodeNumber ino) const;

private:
    struct Entry {
        std::shared_ptr<Window> window;
        std::size_t handles = 0;
    };
    mutable std::mutex mutex_;
    std::unordered_map<InodeNumber, Entry> entries_;
};

}  // namespace mapfs
