// The order in which the daemon stops, and what it does when a part is
// stuck on the kernel.
//
// Threads that may wait on the kernel (a reload, a notification waiting for
// a page lock) can need the session loop to answer a request before they
// can finish, so they are stopped first, while the loop still serves; then
// the loop; then the mount goes and the written regions are synced. Each
// step has a deadline. If one is missed (a thread stuck on a hung backing
// file system), mapfs unmounts and exits without it: the process's end
// closes /dev/fuse, which ends what it waits for, and stores through write
// windows are in the page cache, which reaches the files without mapfs.
#pragma once

#include <atomic>
#include <functional>

#include "daemon/reloader.hpp"
#include "daemon/service_notifier.hpp"
#include "daemon/session_loop.hpp"
#include "fuse/filesystem.hpp"

struct fuse_session;

namespace mapfs {

class Stopper {
public:
    Stopper(Filesystem& filesystem, Reloader& reloader, SessionLoop& loop, fuse_session* session,
            ServiceNotifier& service) noexcept
        : filesystem_(filesystem), reloader_(reloader), loop_(loop), session_(session), service_(service) {}

    // SIGTERM or SIGINT, on the controlling thread: stops the helpers and
    // then the loop. Leaves the process itself if the loop does not end.
    void on_signal();
    // SIGUSR1, or a systemd restart: the same, but the mount stays for
    // the server that takes it over (its descriptors are stored), nothing
    // is synced (the pages stay in the page cache for it) and systemd is
    // not told STOPPING (the supervisor would take it for a real stop).
    void on_handover();
    // The loop ended by itself (unmounted by someone, connection lost).
    void on_loop_ended();
    // After the loop, on its thread: unmounts and syncs; leaves the process
    // (exit status 0) if anything was left behind.
    void finish();
    bool handed_over() const noexcept { return handing_over_.load(); }
    // Something more to stop with the session loop (the rings).
    void also_stop(std::function<void()> stop) { stop_with_loop_ = std::move(stop); }

private:
    bool stop_helpers();
    bool sync_regions();
    [[noreturn]] void leave_now();
    [[noreturn]] void leave_handed_over();

    Filesystem& filesystem_;
    Reloader& reloader_;
    SessionLoop& loop_;
    fuse_session* session_;
    ServiceNotifier& service_;
    std::atomic<bool> left_behind_{false};
    std::atomic<bool> handing_over_{false};
    std::function<void()> stop_with_loop_;
};

}  // namespace mapfs
