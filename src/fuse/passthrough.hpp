// FUSE passthrough: which opens the kernel serves itself, from the backing
// file's page cache (or an anonymous region's memfd), and with which
// backing file.
//
// The kernel's rules, which this follows (Linux 6.9 to 6.18):
//  - every open file of one inode is served one way: all passed through,
//    with the same backing file, or none (a mixed open fails with EIO). So
//    a new open follows the inode's open files, whatever the window's
//    verdict says now; with none open, the verdict decides.
//  - a passed-through file knows no offset and no size: only windows that
//    are a whole file or a whole region qualify (Window::passthrough_fit),
//    and an anonymous region is sealed before its first one.
// One mutex orders the choices of concurrent opens, so that two opens of
// an inode cannot choose differently; it is taken only when the
// connection can pass through at all.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base/expected.hpp"
#include "namespace/backing_file.hpp"
#include "namespace/handle_records.hpp"
#include "namespace/open_index.hpp"
#include "namespace/passthrough_verdict.hpp"

namespace mapfs {

class Passthrough {
public:
    // The connection the backing ids belong to; before any open.
    void serve_connection(int fuse_fd) noexcept { connection_->serve(fuse_fd); }
    // What INIT set up (a server that mounted): whether the kernel offered
    // passthrough, and whether the reply took it.
    void connection_set_up(bool kernel_offered, bool taken) noexcept;
    // A server that took the connection over: registers a scratch file to
    // learn whether the first server set the connection up for passthrough.
    void probe_inherited_connection() noexcept;
    PassthroughLink link() const noexcept { return link_.load(std::memory_order_acquire); }
    // Whether this process has what BACKING_OPEN needs (CAP_SYS_ADMIN):
    // the INIT reply asks for passthrough only then.
    static bool privileged();

    // How an open of `window` as `ino` is served: the backing file the
    // kernel serves it from, null for mapfs itself, or the errno that
    // refuses the open. `lock` is held until the open's handle is in the
    // index: no other open of the inode chooses before it is.
    struct Choice {
        std::unique_lock<std::mutex> lock;
        Result<std::shared_ptr<const BackingFile>> backing{nullptr};
    };
    Choice choose(InodeNumber ino, Window& window, const OpenIndex& index);

    // Whether another window's open of `region` must leave FUSE's page
    // cache out (cache none): a write window of it is passed through, and
    // the writes the kernel serves never reach mapfs to drop cached pages.
    bool written_through(const Region& region) const;

    // A takeover: the backing files the previous server's handles name,
    // by id (adopted, to be closed when their last handle goes).
    std::map<std::uint32_t, std::shared_ptr<const BackingFile>> adopt(const std::vector<HandleRecords::Record>& records);
    // A restored handle of `window` passed through to `backing`: new opens
    // of the window's region reuse it.
    void restored(const Window& window, const std::shared_ptr<const BackingFile>& backing);

    // The server is leaving the mount to another, or unmounting: the ids
    // stay with the connection (backing_file.hpp).
    void keep_ids() noexcept;

private:
    Result<std::shared_ptr<const BackingFile>> choice_for(InodeNumber ino, Window& window, const OpenIndex& index);
    Result<std::shared_ptr<const BackingFile>> backing_of(const Window& window);

    struct RegionBacking {
        std::weak_ptr<const Region> region;
        std::weak_ptr<const BackingFile> backing;
        bool written = false;  // a write window passes through to it
    };

    std::shared_ptr<BackingConnection> connection_ = std::make_shared<BackingConnection>();
    std::atomic<PassthroughLink> link_{PassthroughLink::unknown};
    std::atomic<bool> adopted_{false};  // a previous server's ids are in use
    mutable std::mutex mutex_;
    std::map<const Region*, RegionBacking> by_region_;
};

}  // namespace mapfs
