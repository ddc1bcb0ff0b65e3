#include "daemon/reloader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/log.hpp"
#include "namespace/loader.hpp"

namespace mapfs {

Reloader::Reloader(Filesystem& filesystem, CommandLine command_line, ServiceNotifier& service)
    : filesystem_(filesystem),
      command_line_(std::move(command_line)),
      service_(service),
      start_directory_(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) {}

Reloader::~Reloader() { stop(std::chrono::steady_clock::now() + std::chrono::seconds(5)); }

void Reloader::start() { thread_.start([this] { run(); }); }

void Reloader::request() noexcept {
    {
        std::lock_guard lock(mutex_);
        requested_ = true;
    }
    wake_.notify_all();
}

bool Reloader::stop(std::chrono::steady_clock::time_point deadline) {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    return thread_.join_until(deadline, "a reload (blocked on a backing file?)");
}

void Reloader::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || requested_; });
        if (stopping_) break;
        requested_ = false;
        lock.unlock();
        reload();
        lock.lock();
    }
}

bool Reloader::reload() {
    service_.reloading();
    log::info("reloading the configuration");
    std::shared_ptr<const Registry> old = filesystem_.current_registry();
    // Only this thread uses relative paths, so changing the process's
    // working directory for the read is safe.
    if (start_directory_.valid() && ::fchdir(start_directory_.get()) != 0)
        log::warn("reload: cannot return to the start directory: {}", std::strerror(errno));
    // The mount point is taken as it is: looking at it would be a request to
    // this very mount, from a thread the shutdown must not wait for.
    auto config = read_config(command_line_, filesystem_.mountpoint);
    // Relative to the start directory, where this thread is now.
    if (config && config->mountpoint &&
        std::filesystem::absolute(*config->mountpoint).lexically_normal() !=
            std::filesystem::path(filesystem_.mountpoint).lexically_normal())
        log::warn("reload: the mount point cannot change while mounted; staying on {}", filesystem_.mountpoint);
    auto loaded = config ? mapfs::reload(std::move(*config), *old, filesystem_.mountpoint)
                         : Expected<Loaded, LoadFailure>(unexpected(config.error()));
    [[maybe_unused]] const int back_to_root = ::chdir("/");
    if (!loaded) {
        log::error("reload rejected, the running configuration stays in force:\n{}", loaded.error().message);
        filesystem_.record_reload(false, loaded.error().message);
        // systemctl cannot show a reload's own output; `systemctl status`
        // shows STATUS=, so the first reason goes there.
        service_.ready(status_line_with_outcome(filesystem_));
        return false;
    }
    filesystem_.set_registry(loaded->registry);
    // Let go of the windows the reload replaced now, before the outcome is
    // told: one no open handle keeps goes with its locks (a reload from
    // pages = "lock" to "lazy" must have let them go when `mapfs reload`
    // returns).
    old.reset();
    if (on_reloaded) on_reloaded(*loaded);
    // Sent through the notifier, never from a request; waited for so that
    // `mapfs reload` returns once the kernel has let go of what changed.
    const KernelNotifier::Ticket last = filesystem_.kernel.tell(loaded->changes);
    if (!filesystem_.kernel.wait_sent(last, std::chrono::steady_clock::now() + std::chrono::seconds(2)))
        log::warn("reload: the kernel has not dropped the old names yet");
    log::info("reloaded: {} ({} unchanged)", status_line(filesystem_), loaded->windows_kept);
    filesystem_.record_reload(true, "");
    service_.ready(status_line(filesystem_));
    return true;
}

}  // namespace mapfs
