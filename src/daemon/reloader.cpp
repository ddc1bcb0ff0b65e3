#include "daemon/reloader.hpp"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "namespace/loader.hpp"
#include "base/log.hpp"

namespace mapfs {
namespace {

// The memfds of the running anonymous regions, so that a reload does not
// throw away what was written to them.
std::vector<KeptMemory> anonymous_memory_of(const Registry& registry) {
    std::vector<KeptMemory> kept;
    for (const InodeNumber ino : registry.window_inodes()) {
        const Region& region = registry.find(ino)->window->region();
        const bool listed = std::any_of(kept.begin(), kept.end(), [&](const KeptMemory& m) { return m.fd == region.fd(); });
        if (region.anon() && !listed) kept.push_back({region.name(), region.fd(), region.size_bytes()});
    }
    return kept;
}

// The self-pipe the SIGHUP handler writes to: a signal handler may only do
// async-signal-safe things, so the reload itself runs on the thread.
int wake_pipe[2] = {-1, -1};
constexpr char reload_byte = 'r';
constexpr char stop_byte = 's';

void on_sighup(int) {
    const int saved = errno;
    [[maybe_unused]] const ssize_t written = ::write(wake_pipe[1], &reload_byte, 1);
    errno = saved;
}

}  // namespace

Reloader::Reloader(Filesystem& filesystem, CommandLine command_line)
    : filesystem_(filesystem),
      command_line_(std::move(command_line)),
      start_directory_(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) {}

void Reloader::start(fuse_session* session) {
    session_ = session;
    if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        log::error("cannot create the reload pipe: {}; SIGHUP will be ignored", std::strerror(errno));
        ::signal(SIGHUP, SIG_IGN);
        return;
    }
    struct sigaction action {};
    action.sa_handler = on_sighup;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGHUP, &action, nullptr);
    thread_ = std::thread([this] { run(); });
}

void Reloader::stop() {
    if (!thread_.joinable()) return;
    ::signal(SIGHUP, SIG_IGN);
    [[maybe_unused]] const ssize_t written = ::write(wake_pipe[1], &stop_byte, 1);
    thread_.join();
    ::close(wake_pipe[0]);
    ::close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
}

void Reloader::run() {
    while (true) {
        pollfd wait{wake_pipe[0], POLLIN, 0};
        if (::poll(&wait, 1, -1) < 0 && errno != EINTR) return;
        char byte = 0;
        bool reload_asked = false;
        // Several SIGHUPs in a row make one reload.
        while (::read(wake_pipe[0], &byte, 1) == 1) {
            if (byte == stop_byte) return;
            reload_asked = true;
        }
        if (reload_asked) reload();
    }
}

bool Reloader::reload() {
    filesystem_.notifier->reloading();
    log::info("reloading the configuration");
    const std::shared_ptr<const Registry> old = filesystem_.current_registry();
    // Only this thread uses relative paths, so changing the process's
    // working directory for the read is safe.
    if (start_directory_.valid() && ::fchdir(start_directory_.get()) != 0)
        log::warn("reload: cannot return to the start directory: {}", std::strerror(errno));
    auto config = read_config(command_line_);
    if (config && config->mountpoint && *config->mountpoint != filesystem_.mountpoint)
        log::warn("reload: the mount point cannot change while mounted; staying on {}", filesystem_.mountpoint);
    const std::vector<KeptMemory> kept = anonymous_memory_of(*old);
    auto loaded = config ? map_config(std::move(*config), old->next_free_inode(), kept)
                         : Expected<Loaded, LoadFailure>(unexpected(config.error()));
    [[maybe_unused]] const int back_to_root = ::chdir("/");
    if (!loaded) {
        log::error("reload rejected, the running configuration stays in force:\n{}", loaded.error().message);
        filesystem_.notifier->ready(status_line(filesystem_) + " (last reload rejected)");
        return false;
    }
    filesystem_.set_registry(loaded->registry);
    filesystem_.open_windows.retire_missing(*loaded->registry);
    forget_old_names(*old);
    log::info("reloaded: {}", status_line(filesystem_));
    filesystem_.notifier->ready(status_line(filesystem_));
    return true;
}

// The kernel caches names for a day (entry timeout): drop every old
// top-level name (which drops what lies below it) and the root's listing.
// This runs on the reload thread, never inside a request, so it cannot
// deadlock against one.
void Reloader::forget_old_names(const Registry& old) const {
    const Node* root = old.find(root_inode);
    for (const InodeNumber child : root->children) {
        const std::string& name = old.find(child)->name;
        fuse_lowlevel_notify_inval_entry(session_, root_inode, name.c_str(), name.size());
    }
    fuse_lowlevel_notify_inval_inode(session_, root_inode, 0, 0);
}

}  // namespace mapfs
