// The /dev/fuse transport: a fixed set of workers that read FUSE requests
// and run them,
// one more than the CPUs, so that a slow request (an fsync of a large
// window, a fault on a slow backing file) never stalls the others; or one
// worker with -s. Each worker reads a request, runs it and replies on the
// same descriptor, with no hand-off between threads.
//
// Unlike libfuse's loops, stop() may come from any thread at any time, and
// it stops at a request boundary: what a worker has read it answers, what
// it has not read stays with the kernel (for a server that takes over).
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "transport/transport.hpp"

struct fuse_session;

namespace mapfs {

struct WorkerSettings {
    unsigned workers = 1;
    // Each worker reads from a clone of the session's descriptor. Requests
    // a clone has read die with it, with an error, when the process dies;
    // requests read from the session's descriptor stay with it (it is kept
    // for a takeover) and can be sent again (FUSE_NOTIFY_RESEND).
    bool clone_descriptors = false;
};

class DevFuseWorkers final : public Transport {
public:
    DevFuseWorkers(fuse_session* session, int session_fd, WorkerSettings settings) noexcept
        : session_(session), session_fd_(session_fd), settings_(settings) {}

    // Serves until stop() or until the file system is unmounted. Returns 0,
    // or a negative errno when reading requests failed.
    int run();
    // Asks run() to end, at a request boundary (a worker blocked reading is
    // woken by a signal without SA_RESTART).
    void stop() noexcept override;
    // Wakes the workers until run() has ended or `deadline` passed; true
    // when it has ended.
    bool wait_stopped(std::chrono::steady_clock::time_point deadline) noexcept override;
    bool finished() const noexcept { return finished_.load(); }

    // Workers for this machine: one per CPU, and a spare.
    static unsigned default_workers() noexcept;

private:
    void work(std::size_t index);
    void wake_workers() noexcept;

    fuse_session* session_;
    int session_fd_;
    WorkerSettings settings_;
    std::vector<std::thread> workers_;
    // Which workers are still in work(), under the mutex: a worker's id is
    // signalled only while it is alive.
    std::mutex alive_mutex_;
    std::vector<pthread_t> worker_ids_;
    std::vector<bool> alive_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> started_{false};
    std::atomic<bool> finished_{false};
    std::atomic<int> error_{0};
};

}  // namespace mapfs
