// What every FUSE callback reaches through fuse_req_userdata(): the
// namespace in force, the open handles, and the one component that talks
// back to the kernel.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "fuse/kernel_notifier.hpp"
#include "fuse/passthrough.hpp"
#include "fuse/request_meter.hpp"
#include "namespace/handle_table.hpp"
#include "namespace/open_index.hpp"
#include "namespace/registry.hpp"
#include "namespace/residency.hpp"
#include "namespace/status.hpp"
#include "namespace/status_readers.hpp"

namespace mapfs {

struct Filesystem {
    // The registry in force; a reload swaps it while requests run.
    std::shared_ptr<const Registry> current_registry() const { return registry_.load(std::memory_order_acquire); }
    void set_registry(std::shared_ptr<const Registry> registry) {
        registry_.store(std::move(registry), std::memory_order_release);
    }

    // Declared before `handles`: a handle leaves the index when destroyed.
    OpenIndex open_index;
    // Who holds .mapfs/status open (a limit per user).
    StatusReaders status_readers;
    HandleTable handles;
    KernelNotifier kernel;
    // Which opens the kernel serves itself (FUSE passthrough).
    Passthrough passthrough;
    RequestMeter requests;
    // Called once, from the FUSE INIT: from then on the mount answers.
    std::function<void()> on_ready;
    // Called once, from the first request after INIT (the kernel has taken
    // INIT's reply by then): settings INIT would undo go here.
    std::function<void()> after_init;
    std::atomic<bool> after_init_pending{true};
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::string mountpoint;
    bool read_only = false;
    // Window sizes never change while mounted, so the kernel may keep
    // names and attributes for long.
    double attr_timeout_s = 86400.0;
    double entry_timeout_s = 86400.0;
    // How long a write waits for the kernel to drop other windows' cached
    // copies of what it wrote before it replies anyway (see write.cpp).
    std::chrono::milliseconds invalidation_wait{200};
    // Writes that replied before that, for the status report.
    std::atomic<std::uint64_t> late_invalidations{0};
    ResidencyMeter residency;
    // Which process serves, who keeps the mount for the next one.
    Serving serving;
    // Whether requests come through io_uring (uring_transport.hpp).
    std::atomic<bool> uring_active{false};
    std::atomic<std::uint64_t> ring_requests{0};
    // From INIT: the largest write, which sizes the rings' buffers.
    std::uint32_t max_write = 0;
    // -o max_read=N (0: none): INIT must tell libfuse what the mount
    // options told the kernel, or libfuse refuses the connection.
    std::uint32_t max_read = 0;

    // The outcome of reloads, for the status report (and `mapfs reload`).
    void record_reload(bool accepted, std::string message);
    ReloadOutcome last_reload() const;

private:
    mutable std::mutex reload_mutex_;
    ReloadOutcome reload_;
    std::atomic<std::shared_ptr<const Registry>> registry_;
};

inline Filesystem& filesystem_of(fuse_req_t request) {
    return *static_cast<Filesystem*>(fuse_req_userdata(request));
}

// The open handle a request names, held for the whole request: null when
// the number is unknown, retired (its window is gone), or belongs to
// another inode than the one the kernel named (EBADF for the caller).
inline std::shared_ptr<OpenHandle> handle_of(fuse_req_t request, fuse_ino_t ino, const fuse_file_info* info) noexcept {
    return info == nullptr ? nullptr : filesystem_of(request).handles.get(info->fh, ino);
}

// Runs Filesystem::after_init if this is the first request after INIT.
inline void run_after_init(Filesystem& filesystem) noexcept {
    if (!filesystem.after_init_pending.load(std::memory_order_relaxed)) return;
    if (!filesystem.after_init_pending.exchange(false) || !filesystem.after_init) return;
    try {
        filesystem.after_init();
    } catch (...) {  // a setting that could not be made: serve anyway
    }
}

// "2 regions, 5 windows on /mnt": the STATUS= line for systemd.
std::string status_line(const Filesystem& filesystem);
// The same, with the first reason when the last configuration read (a
// reload, or the file at a takeover) was rejected: `systemctl status`
// shows STATUS=, not a reload's own output.
std::string status_line_with_outcome(const Filesystem& filesystem);

// What .mapfs/status reports, as of now.
StatusContext status_context_of(Filesystem& filesystem);

// The lowlevel operations table; `count_requests` for a watchdog that
// must tell a serving daemon from a stuck one (Filesystem::requests).
const fuse_lowlevel_ops& filesystem_operations(bool count_requests);

}  // namespace mapfs
