// FUSE over io_uring (Linux 6.14, off until root sets
// /sys/module/fuse/parameters/enable_uring): requests come through ring
// entries instead of read(2) on /dev/fuse. libfuse 3.14 knows nothing of
// it, so mapfs drives the rings itself and hands each request to libfuse as
// if it had been read from /dev/fuse:
//
//  - one queue per possible CPU (the kernel routes a request to the queue
//    of the CPU its caller runs on, and uses the rings only once every
//    queue has an entry), served by `threads_per_queue` threads pinned to
//    that CPU while their requests are small (a large one frees its
//    thread), each with an io_uring of its own and one entry: an entry is
//    waiting only while its thread is idle, so a slow request on one thread
//    never holds requests back that another could take; a thread that has
//    answered polls for its next request for a moment while that pays
//    (idle_spin.hpp) before it sleeps;
//  - the kernel writes a request's headers into the entry's header buffer
//    and its data into the payload buffer; the headers are copied in front
//    of the payload (into room kept there), which makes the /dev/fuse
//    layout libfuse parses without copying the data;
//  - the reply goes through SessionIo's writev hook, which sees that its
//    thread serves a ring entry and copies the reply into the entry (the
//    mapped bytes of a read once, under the SIGBUS guard) instead of
//    writing to /dev/fuse; COMMIT_AND_FETCH then sends it and waits for
//    the next request in one system call.
//
// /dev/fuse still carries FORGET, INTERRUPT and notifications, so the
// session loop keeps reading it.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "transport/transport.hpp"

struct fuse_session;

namespace mapfs {

class UringTransport final : public Transport {
public:
    UringTransport();
    UringTransport(const UringTransport&) = delete;
    UringTransport& operator=(const UringTransport&) = delete;
    ~UringTransport();

    // What /sys/module/fuse/parameters/enable_uring says.
    static bool enabled_in_kernel() noexcept;
    // The kernel's number of queues: its possible CPUs.
    static unsigned possible_cpus() noexcept;

    // Registers the entries and starts serving; returns once every queue
    // has its entries (the kernel then sends requests through the rings),
    // or with the errno that stopped it (the mount stays on /dev/fuse).
    // `answered` counts the requests answered through the rings.
    int start(fuse_session* session, int fd, std::size_t max_payload_bytes, std::atomic<std::uint64_t>& answered);
    // Asks the threads to stop: an idle one wakes within its wait's timeout
    // and answers what its ring already holds.
    void stop() noexcept override;
    // A thread still in a request at `deadline` is left behind rather than
    // waited for (the process is about to end).
    bool wait_stopped(std::chrono::steady_clock::time_point deadline) noexcept override;
    bool running() const noexcept { return running_.load(); }
    unsigned queues() const noexcept { return queues_; }

    // For SessionIo's writev hook: when this thread is answering a ring
    // request, stores the reply in its entry and returns true (`written`
    // is what writev returns).
    static bool capture_reply(const struct iovec* iov, int count, ssize_t& written) noexcept;

    static constexpr unsigned threads_per_queue = 2;
    // Measured on 2 CPUs (4 KiB O_DIRECT reads): 2 entries per thread,
    // answered in batches, gave 170,000 to 180,000 reads/s with 4 callers
    // but 22,000 to 34,000 with 1 (1 entry: 98,000 to 160,000 and 57,000
    // to 61,000); one entry also keeps a slow request from holding back a
    // request the kernel put in its thread's other entry.
    static constexpr std::size_t entries_per_thread = 1;

private:
    class Worker;

    std::vector<std::unique_ptr<Worker>> workers_;
    std::atomic<bool> running_{false};
    std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<unsigned>> finished_ = std::make_shared<std::atomic<unsigned>>(0);
    unsigned queues_ = 0;
};

}  // namespace mapfs
