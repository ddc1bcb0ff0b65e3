// The loop that reads FUSE requests and runs them: libfuse's thread pool
// (one /dev/fuse clone per worker), or one thread with -s. Unlike libfuse's
// signal handlers, stop() may come from any thread at any time.
#pragma once

#include <pthread.h>

#include <atomic>

struct fuse_session;

namespace mapfs {

class SessionLoop {
public:
    SessionLoop(fuse_session* session, bool single_thread) noexcept
        : session_(session), single_thread_(single_thread) {}

    // Serves on the calling thread until stop() or until the file system
    // is unmounted. Returns libfuse's result (negative on a failure).
    int run() noexcept;
    // Ends run() soon; true once run() has returned.
    void stop() noexcept;
    bool finished() const noexcept { return finished_.load(); }

private:
    fuse_session* session_;
    bool single_thread_;
    pthread_t runner_{};
    std::atomic<bool> running_{false};
    std::atomic<bool> finished_{false};
};

}  // namespace mapfs
