// One open file of the mount: what fuse_file_info::fh stands for.
//
// A handle owns its window (which owns its mappings), so a window that a
// reload removed keeps serving the files opened on it. Every request holds
// its handle (a shared_ptr) from its first line to its last, after the
// reply included, so a RELEASE racing the end of a request cannot free the
// window under it. A window handle is in the OpenIndex from its
// construction to its destruction: writes through other windows find it
// there to drop its cached pages.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "mapping/window.hpp"
#include "namespace/backing_file.hpp"
#include "namespace/open_index.hpp"
#include "namespace/status_readers.hpp"

namespace mapfs {

class OpenHandle {
public:
    using Clock = std::chrono::steady_clock;

    // Who opened, for telling an O_TRUNC from a truncate(2).
    struct Opener {
        pid_t tid = 0;  // the thread, as the kernel names it in requests
        bool for_writing = false;
    };

    // A handle on `window` as inode `ino`, passed through to `backing`
    // (null: served by mapfs). Throws std::bad_alloc.
    OpenHandle(InodeNumber ino, std::shared_ptr<Window> window, OpenIndex& index, Opener opener,
               std::shared_ptr<const BackingFile> backing = nullptr);
    // A handle on .mapfs/status, serving the report made at open; `reader`
    // counts the open against its user's limit (none for a handle a takeover
    // restores).
    OpenHandle(InodeNumber ino, std::string status_report, StatusReaders::Ticket reader = {});
    ~OpenHandle();
    OpenHandle(const OpenHandle&) = delete;
    OpenHandle& operator=(const OpenHandle&) = delete;

    InodeNumber ino() const noexcept { return ino_; }
    // Null for .mapfs/status.
    Window* window() const noexcept { return window_.get(); }
    const std::shared_ptr<Window>& shared_window() const noexcept { return window_; }
    const std::string& status_report() const noexcept { return status_report_; }
    // The file the kernel serves this open file from itself; null when
    // mapfs serves it. Held as long as the handle: the inode's next opens
    // must name the same one (backing_file.hpp).
    const std::shared_ptr<const BackingFile>& backing() const noexcept { return backing_; }

    // fsync: msync of the window, then the first writeback error of its
    // file that this handle has not been told yet; 0 or errno.
    int sync() noexcept;

    // Without atomic O_TRUNC (see fuse/init.cpp) the kernel follows an
    // open(O_TRUNC) with a SETATTR to size 0 that looks exactly like
    // truncate(path, 0): no file handle, no other mark. What tells them
    // apart is that it comes from the thread that has just opened the file
    // for writing. True (once) when `tid` is that opener, within a second.
    bool claim_open_truncation(pid_t tid) noexcept;

private:
    InodeNumber ino_;
    std::shared_ptr<Window> window_;
    std::shared_ptr<const BackingFile> backing_;
    OpenIndex* index_ = nullptr;
    std::string status_report_;
    StatusReaders::Ticket reader_;
    std::uint64_t writeback_errors_seen_ = 0;
    pid_t opener_tid_ = 0;
    Clock::time_point opened_at_ = Clock::now();
    std::atomic<bool> truncation_claimable_{false};
};

}  // namespace mapfs
