// The windows that have open file handles, by inode number and by the file
// bytes they show. A write asks it which open windows overlap the bytes it
// changed (their cached pages must go); GETATTR and SETATTR ask it for a
// window a reload removed while a handle kept it open.
//
// It does not depend on the registry: an open that races a reload is here
// as soon as its handle exists, whichever registry it came from, so no
// reload can make a write miss it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include <sys/types.h>

#include <vector>

#include "mapping/window.hpp"

namespace mapfs {

using InodeNumber = std::uint64_t;
class OpenHandle;
class BackingFile;

class OpenIndex {
public:
    // One more handle on `window` as inode `ino`. Throws std::bad_alloc.
    void add(InodeNumber ino, const std::shared_ptr<Window>& window, OpenHandle& handle);
    // One handle fewer; the window leaves the index with its last handle.
    void remove(InodeNumber ino, OpenHandle& handle) noexcept;

    // Whether the SETATTR to size 0 that thread `tid` sends for `ino` is the
    // truncation of an open(O_TRUNC) that thread just made (see
    // OpenHandle::claim_open_truncation); claims it if so.
    bool claim_open_truncation(InodeNumber ino, pid_t tid) const;

    // How the open files of `ino` are served: nothing when none is open,
    // else the backing file the first of them passes through to (null:
    // served by mapfs). The kernel wants an inode's open files served one
    // way (backing_file.hpp).
    std::optional<std::shared_ptr<const BackingFile>> open_mode(InodeNumber ino) const;

    // The window open as `ino`, or null.
    std::shared_ptr<Window> window_of(InodeNumber ino) const;
    // Every open window.
    std::vector<std::shared_ptr<Window>> windows() const;
    std::size_t open_windows() const;

    // Calls visit(ino, window) for each open window of `file` whose bytes
    // overlap [start, end) of the file. Holds a shared lock: `visit` must not
    // block or call back into the index.
    template <class Visit>
    void for_each_overlapping(const FileIdentity& file, std::uint64_t start, std::uint64_t end, Visit&& visit) const {
        std::shared_lock lock(mutex_);
        const auto found = by_file_.find(file);
        if (found == by_file_.end()) return;
        const FileWindows& windows = found->second;
        // No window is longer than longest_, so none starting before
        // start - longest_ can reach `start`.
        const std::uint64_t from = start > windows.longest ? start - windows.longest : 0;
        for (auto it = windows.by_start.lower_bound(from); it != windows.by_start.end() && it->first < end; ++it) {
            const Window& window = *it->second.window;
            if (window.offset_bytes() + window.length_bytes() > start) visit(it->second.ino, window);
        }
    }

private:
    struct Entry {
        std::shared_ptr<Window> window;
        std::vector<OpenHandle*> handles;
    };
    struct Located {
        InodeNumber ino = 0;
        Window* window = nullptr;
    };
    struct FileWindows {
        std::multimap<std::uint64_t, Located> by_start;  // file offset of the first byte
        std::uint64_t longest = 0;  // never shrinks: a bound, not the exact maximum
    };

    mutable std::shared_mutex mutex_;
    std::unordered_map<InodeNumber, Entry> by_ino_;
    std::map<FileIdentity, FileWindows> by_file_;
};

}  // namespace mapfs
