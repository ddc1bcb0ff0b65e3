// What every transport is: threads that take FUSE requests from the kernel
// and hand the replies back, and that stop the same way, at a request
// boundary: a request a thread has taken it answers, one it has not taken
// stays with the kernel (for a server that takes the mount over). The
// /dev/fuse workers (dev_fuse_workers.hpp) and the io_uring queues
// (uring_transport.hpp) are the two; SessionTransport runs them as one.
#pragma once

#include <chrono>

namespace mapfs {

class Transport {
public:
    virtual ~Transport() = default;
    // Asks every thread to stop at its next request boundary; from any
    // thread, at any time, more than once.
    virtual void stop() noexcept = 0;
    // Waits until every thread has ended, or until `deadline`: false then
    // (a thread stuck on the kernel is left behind; the process is about to
    // end).
    virtual bool wait_stopped(std::chrono::steady_clock::time_point deadline) noexcept = 0;
};

}  // namespace mapfs
