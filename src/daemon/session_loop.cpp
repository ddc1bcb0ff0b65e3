#include "daemon/session_loop.hpp"

#include <fuse_lowlevel.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <thread>

#include "daemon/signals.hpp"

namespace mapfs {

int SessionLoop::run() noexcept {
    runner_ = ::pthread_self();
    running_ = true;
    int result = 0;
    if (single_thread_) {
        result = fuse_session_loop(session_);
    } else {
        std::unique_ptr<fuse_loop_config, decltype(&fuse_loop_cfg_destroy)> config(fuse_loop_cfg_create(),
                                                                                   fuse_loop_cfg_destroy);
        fuse_loop_cfg_set_clone_fd(config.get(), 1);
        fuse_loop_cfg_set_idle_threads(config.get(), 16);
        result = fuse_session_loop_mt(session_, config.get());
    }
    finished_ = true;
    return result;
}

void SessionLoop::stop() noexcept {
    fuse_session_exit(session_);
    // libfuse notices the exit only when its blocking call returns: the
    // read of the next request (-s) or the wait for a worker to end. A
    // signal without SA_RESTART makes either return EINTR; it is sent
    // again until the loop is seen to end, in case it came just before the
    // call began.
    for (int attempt = 0; attempt < 20 && running_ && !finished_; ++attempt) {
        ::pthread_kill(runner_, wake_signal());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace mapfs
