#include "transport/session_transport.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/log.hpp"
#include "fuse/filesystem.hpp"
#include "mapping/mapping.hpp"

namespace mapfs {

int SessionTransport::install(fuse_session* session, int fd) {
    workers_ = std::make_unique<DevFuseWorkers>(session, fd, WorkerSettings{settings_.workers, settings_.clone_descriptors});
    io_.want_io_uring(settings_.want_io_uring);
    io_.want_passthrough(settings_.want_passthrough);
    io_.on_passthrough_set_up = [this](bool offered, bool taken) { filesystem_.passthrough.connection_set_up(offered, taken); };
    io_.on_init_answered = [this, session, fd] { start_rings(session, fd); };
    return io_.install(session, fd);
}

int SessionTransport::serve() { return workers_->run(); }

void SessionTransport::stop() noexcept {
    {
        std::lock_guard lock(rings_mutex_);
        stopping_ = true;
        rings_.stop();
    }
    if (workers_) workers_->stop();
}

// One deadline for both: what the first does not use, the second may.
bool SessionTransport::wait_stopped(std::chrono::steady_clock::time_point deadline) noexcept {
    const bool workers_ended = !workers_ || workers_->wait_stopped(deadline);
    std::lock_guard lock(rings_mutex_);
    return rings_.wait_stopped(deadline) && workers_ended;
}

// Once the kernel has INIT's reply: the rings, if INIT took io_uring.
void SessionTransport::start_rings(fuse_session* session, int fd) {
    if (!io_.asked_io_uring()) {
        const std::string why = settings_.want_io_uring
                                    ? "the kernel did not offer it at INIT (it needs Linux 6.14 with CONFIG_FUSE_IO_URING)"
                                    : settings_.why_not_io_uring;
        log::info("requests come through /dev/fuse, not io_uring: {}", why);
        return;
    }
    std::lock_guard lock(rings_mutex_);
    if (stopping_) return;
    const std::size_t page = page_size();
    const std::size_t payload = (std::max<std::size_t>(filesystem_.max_write, 8192) + page - 1) / page * page;
    if (const int error = rings_.start(session, fd, payload, filesystem_.ring_requests); error != 0) {
        // INIT took io_uring, and the kernel now holds every request until
        // every queue has an entry: there is no way back to /dev/fuse, and
        // a mount that hangs is worse than none.
        log::error("registering the io_uring queues failed: {}; the kernel would hold every request, so mapfs "
                   "unmounts (-o transport=dev avoids io_uring)",
                   std::strerror(error));
        ::kill(::getpid(), SIGTERM);
        return;
    }
    filesystem_.uring_active = true;
    log::info("requests come through io_uring: {} queues (one per CPU), {} threads each", rings_.queues(),
              UringTransport::threads_per_queue);
}

}  // namespace mapfs
