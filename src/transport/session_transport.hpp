// How a session's requests arrive and its replies leave, behind one
// interface. The /dev/fuse workers serve from the start (FORGET, INTERRUPT
// and notifications always travel there); the io_uring queues join them once
// the kernel has taken an INIT reply that asked for io_uring. One stop ends
// both at a request boundary.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "transport/dev_fuse_workers.hpp"
#include "transport/session_io.hpp"
#include "transport/transport.hpp"
#include "transport/uring_transport.hpp"

struct fuse_session;

namespace mapfs {

struct Filesystem;

struct TransportSettings {
    unsigned workers = 1;            // /dev/fuse workers
    bool clone_descriptors = false;  // each worker reads a clone (see WorkerSettings)
    bool want_io_uring = false;      // ask for io_uring in the INIT reply
    bool want_passthrough = false;   // ask for FUSE passthrough in the INIT reply
    std::string why_not_io_uring;    // for the log, when not wanted
};

class SessionTransport final : public Transport {
public:
    SessionTransport(Filesystem& filesystem, TransportSettings settings) noexcept
        : filesystem_(filesystem), settings_(std::move(settings)) {}

    // Takes over the session's reads and writes of the connection `fd`
    // (libfuse's custom I/O); 0 or a negative errno. Before serve().
    int install(fuse_session* session, int fd);
    // The hooks, for what the session does around INIT (replay, keep).
    SessionIo& io() noexcept { return io_; }

    // Serves on the calling thread until stop() or the unmount: 0, or a
    // negative errno when reading requests failed.
    int serve();
    void stop() noexcept override;
    bool wait_stopped(std::chrono::steady_clock::time_point deadline) noexcept override;

private:
    void start_rings(fuse_session* session, int fd);

    Filesystem& filesystem_;
    TransportSettings settings_;
    SessionIo io_;
    std::unique_ptr<DevFuseWorkers> workers_;
    std::mutex rings_mutex_;  // starting the rings against a stop
    bool stopping_ = false;   // under rings_mutex_
    UringTransport rings_;
};

}  // namespace mapfs
