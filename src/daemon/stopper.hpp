// The order in which the daemon stops, and what it does when a part is
// stuck on the kernel.
//
// Threads that may wait on the kernel (a reload, a notification waiting for
// a page lock) can need the transport to answer a request before they can
// finish, so they are stopped first, while it still serves; then the
// transport; then the mount goes and the written regions are synced. Each
// step has a deadline. If one is missed (a thread stuck on a hung backing
// file system), mapfs unmounts and exits without it: the process's end
// closes /dev/fuse, which ends what it waits for, and stores through write
// windows are in the page cache, which reaches the files without mapfs.
#pragma once

#include <atomic>

#include "daemon/reloader.hpp"
#include "daemon/service_notifier.hpp"
#include "fuse/filesystem.hpp"
#include "transport/transport.hpp"

namespace mapfs {

class Stopper {
public:
    Stopper(Filesystem& filesystem, Reloader& reloader, Transport& transport, ServiceNotifier& service) noexcept
        : filesystem_(filesystem), reloader_(reloader), transport_(transport), service_(service) {}

    // SIGTERM or SIGINT, on the controlling thread: stops the helpers and
    // then the transport. Leaves the process itself if it does not end.
    void on_signal();
    // SIGUSR1, or a systemd restart: the same, but the mount stays for
    // the server that takes it over (its descriptors are stored), nothing
    // is synced (the pages stay in the page cache for it) and systemd is
    // not told STOPPING (the supervisor would take it for a real stop).
    void on_handover();
    // The transport ended by itself (unmounted by someone, connection lost).
    void on_transport_ended();
    // After serving, on the serving thread: unmounts and syncs; leaves the
    // process (exit status 0) if anything was left behind.
    void finish();
    bool handed_over() const noexcept { return handing_over_.load(); }

private:
    bool stop_helpers();
    bool sync_regions();
    [[noreturn]] void leave_now();
    [[noreturn]] void leave_handed_over();

    Filesystem& filesystem_;
    Reloader& reloader_;
    Transport& transport_;
    ServiceNotifier& service_;
    std::atomic<bool> left_behind_{false};
    std::atomic<bool> handing_over_{false};
};

}  // namespace mapfs
