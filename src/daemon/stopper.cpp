#include "daemon/stopper.hpp"

#include <fuse_lowlevel.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>

#include "base/log.hpp"
#include "base/mount_table.hpp"
#include "takeover/supervisor.hpp"

namespace mapfs {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto helpers_deadline = std::chrono::seconds(3);
constexpr auto transport_deadline = std::chrono::seconds(2);
constexpr auto sync_deadline = std::chrono::seconds(2);

}  // namespace

void Stopper::on_signal() {
    service_.stopping();
    if (!stop_helpers()) left_behind_ = true;
    transport_.stop();
    if (!transport_.wait_stopped(Clock::now() + transport_deadline)) leave_now();
}

void Stopper::on_handover() {
    handing_over_ = true;
    service_.stop_watchdog();
    if (!stop_helpers()) left_behind_ = true;
    transport_.stop();
    // Stuck: the next server gets what this one could not answer again.
    if (!transport_.wait_stopped(Clock::now() + transport_deadline)) leave_handed_over();
}

void Stopper::leave_handed_over() {
    spdlog::default_logger()->flush();
    std::_Exit(filesystem_.serving.keeper == Keeper::supervisor ? exit_handover : 0);
}

void Stopper::on_transport_ended() {
    if (!stop_helpers()) left_behind_ = true;
}

void Stopper::finish() {
    // The /dev/fuse workers have ended; the rings end with them.
    transport_.stop();
    if (!transport_.wait_stopped(Clock::now() + transport_deadline)) left_behind_ = true;
    if (handing_over_) {
        log::info("handed the mount on {} over", filesystem_.mountpoint);
        if (left_behind_) leave_handed_over();
        return;
    }
    service_.stopping();
    service_.stop_watchdog();
    detach_mount(filesystem_.mountpoint);
    log::info("unmounted {}", filesystem_.mountpoint);
    if (!sync_regions() || left_behind_) {
        spdlog::default_logger()->flush();
        std::_Exit(0);
    }
}

// One deadline for both: what the first does not use, the second may.
bool Stopper::stop_helpers() {
    const auto deadline = Clock::now() + helpers_deadline;
    const bool reload_done = reloader_.stop(deadline);
    const bool notifications_done = filesystem_.kernel.stop(deadline);
    return reload_done && notifications_done;
}

// msync of every region written through a write window: the current ones
// and those that a reload replaced while a handle kept them open. In a
// child process: a thread that waits for writeback to a hung file system
// sleeps where not even SIGKILL reaches it, and would keep the daemon from
// exiting. The child closes every descriptor first (/dev/fuse among them,
// so it cannot keep the connection alive) and finishes whenever the file
// system answers; the daemon waits for it until the deadline.
bool Stopper::sync_regions() {
    std::vector<std::shared_ptr<Window>> windows = filesystem_.current_registry()->windows();
    for (std::shared_ptr<Window>& window : filesystem_.open_index.windows()) windows.push_back(std::move(window));
    std::vector<const Mapping*> views;
    std::set<const Region*> seen;
    for (const std::shared_ptr<Window>& window : windows) {
        const Region& region = window->region();
        if (window->access() == Access::write && !region.anon() && seen.insert(&region).second)
            views.push_back(&region.view(Access::write));
    }
    if (views.empty()) return true;
    const pid_t child = ::fork();
    if (child == 0) {
        ::close_range(3, ~0U, 0);
        int failed = 0;
        // Only system calls here: a lock another thread held at the fork
        // would never be released in this process.
        for (const Mapping* view : views) failed += view->sync(0, view->length_bytes()) != 0 ? 1 : 0;
        ::_exit(std::min(failed, 100));
    }
    if (child < 0) return true;  // no process to spare: the page cache writes them back anyway
    const auto deadline = Clock::now() + sync_deadline;
    int status = 0;
    while (Clock::now() < deadline) {
        if (::waitpid(child, &status, WNOHANG) == child) {
            if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                log::error("syncing {} of the backing files failed", WEXITSTATUS(status));
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    log::warn("the final sync of the backing files is still waiting (pid {}); exiting without it", child);
    return false;
}

void Stopper::leave_now() {
    log::warn("a thread is stuck waiting on the kernel; unmounting {} and exiting without it", filesystem_.mountpoint);
    detach_mount(filesystem_.mountpoint);
    sync_regions();
    spdlog::default_logger()->flush();
    std::_Exit(0);
}

}  // namespace mapfs
