#include "transport/dev_fuse_workers.hpp"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>

#include "base/log.hpp"
#include "transport/session_io.hpp"
#include "base/unique_fd.hpp"

namespace mapfs {

namespace {

// A new descriptor of the same connection (FUSE_DEV_IOC_CLONE).
UniqueFd clone_of(int session_fd) {
    UniqueFd clone(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    std::uint32_t source = static_cast<std::uint32_t>(session_fd);
    if (clone.valid() && ::ioctl(clone.get(), FUSE_DEV_IOC_CLONE, &source) != 0) {
        log::debug("cannot clone /dev/fuse ({}); this worker shares the session's", std::strerror(errno));
        clone.reset();
    }
    return clone;
}

// A signal with a handler that does nothing: sent to a worker blocked
// reading /dev/fuse, it makes the read fail with EINTR (no SA_RESTART), and
// the worker sees that it is to stop.
constexpr int wake_signal = SIGUSR2;

void on_wake(int) {}

void install_wake_handler() {
    struct sigaction wake {};
    wake.sa_handler = on_wake;
    sigemptyset(&wake.sa_mask);
    ::sigaction(wake_signal, &wake, nullptr);
}

}  // namespace

unsigned DevFuseWorkers::default_workers() noexcept {
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    return static_cast<unsigned>(cpus > 0 ? cpus : 1) + 1;
}

int DevFuseWorkers::run() {
    install_wake_handler();
    {
        std::lock_guard lock(alive_mutex_);
        worker_ids_.resize(settings_.workers);
        alive_.assign(settings_.workers, true);
        for (unsigned i = 0; i < settings_.workers; ++i) {
            workers_.emplace_back([this, i] { work(i); });
            worker_ids_[i] = workers_.back().native_handle();
        }
        started_ = true;
    }
    for (std::thread& worker : workers_) worker.join();
    finished_ = true;
    return error_.load();
}

void DevFuseWorkers::work(std::size_t index) {
    UniqueFd own;
    if (settings_.clone_descriptors) own = clone_of(session_fd_);
    SessionIo::use_for_this_thread(own.valid() ? own.get() : -1);
    fuse_buf buffer{};
    while (!stopping_.load(std::memory_order_relaxed)) {
        const int got = fuse_session_receive_buf(session_, &buffer);
        if (got == -EINTR || got == -EAGAIN) continue;
        if (got <= 0) {
            // 0: the file system was unmounted (ENODEV). The others see it too.
            if (got < 0) error_ = got;
            stopping_ = true;
            break;
        }
        fuse_session_process_buf(session_, &buffer);
        // libfuse ends a session it cannot serve (an INIT it refused): a
        // mount that answers nothing must not outlive it.
        if (fuse_session_exited(session_) && !stopping_.exchange(true)) {
            log::error("libfuse ended the session (see the message above): mapfs stops");
            error_ = -EPROTO;
            stop();
        }
    }
    std::free(buffer.mem);
    SessionIo::use_for_this_thread(-1);
    std::lock_guard lock(alive_mutex_);
    alive_[index] = false;
}

void DevFuseWorkers::stop() noexcept {
    stopping_ = true;
    fuse_session_exit(session_);
    wake_workers();
}

// A worker blocked reading the next request wakes with EINTR (the wake
// signal has no SA_RESTART); one that is running a request finishes it and
// then sees the flag.
void DevFuseWorkers::wake_workers() noexcept {
    std::lock_guard lock(alive_mutex_);
    if (!started_) return;
    for (std::size_t i = 0; i < worker_ids_.size(); ++i)
        if (alive_[i]) ::pthread_kill(worker_ids_[i], wake_signal);
}

bool DevFuseWorkers::wait_stopped(std::chrono::steady_clock::time_point deadline) noexcept {
    // Woken again and again, in case one was just about to block.
    while (!finished_ && std::chrono::steady_clock::now() < deadline) {
        wake_workers();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return finished_;
}

}  // namespace mapfs
