// What every FUSE callback reaches through fuse_req_userdata().
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "config/config.hpp"
#include "fuse/kernel_notifier.hpp"
#include "namespace/open_handles.hpp"
#include "namespace/registry.hpp"
#include "fuse/request_meter.hpp"
#include "daemon/service_notifier.hpp"

namespace mapfs {

struct Filesystem {
    // The registry in force; a reload swaps it while requests run.
    std::shared_ptr<const Registry> current_registry() const { return registry_.load(std::memory_order_acquire); }
    void set_registry(std::shared_ptr<const Registry> registry) {
        registry_.store(std::move(registry), std::memory_order_release);
    }

    Invalidator invalidator;
    OpenWindows open_windows;
    RequestMeter requests;
    ServiceNotifier* notifier = nullptr;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::string mountpoint;
    bool read_only = false;
    // Window sizes never change while mounted, so the kernel may keep
    // names and attributes for long; O_TRUNC opens invalidate them anyway.
    double attr_timeout_s = 86400.0;
    double entry_timeout_s = 86400.0;

private:
    std::atomic<std::shared_ptr<const Registry>> registry_;
};

// One open file handle; fuse_file_info::fh points at it.
struct OpenFile {
    std::shared_ptr<Window> window;  // null for .mapfs/status
    std::string status_snapshot;     // the report, made at open
    std::uint64_t ino = 0;
    // Set when the open had O_TRUNC: the kernel then believes the file is
    // empty until mapfs tells it the true size (after the open completed).
    std::atomic<bool> size_restore_pending{false};
};

inline Filesystem& filesystem_of(fuse_req_t request) {
    return *static_cast<Filesystem*>(fuse_req_userdata(request));
}

inline OpenFile& open_file_of(const fuse_file_info* info) {
    return *reinterpret_cast<OpenFile*>(info->fh);
}

// Queues the size restore of an O_TRUNC handle once, from its first request
// after the open (the kernel has finished the open by then).
void restore_size_if_pending(Filesystem& filesystem, OpenFile& open_file);

// "2 regions, 5 windows on /mnt": the STATUS= line for systemd.
std::string status_line(const Filesystem& filesystem);

// The lowlevel operations table; `count_requests` for a watchdog that
// must tell a serving daemon from a stuck one (Filesystem::requests).
const fuse_lowlevel_ops& filesystem_operations(bool count_requests);

}  // namespace mapfs
