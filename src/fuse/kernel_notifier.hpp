// Sends the kernel cache notifications (invalidate pages, restore a size)
// from a thread of its own.
//
// Why a thread: libfuse warns that a notify call made in the execution path
// of a related request can deadlock. Invalidating window B's pages needs B's
// page locks, which the kernel may hold while it waits for this daemon to
// answer a request on B; with one session thread (-s), or with every worker
// busy, a worker that notified inline would wait for itself. The FUSE
// workers only queue work here and reply at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

struct fuse_session;

namespace mapfs {

class Window;

class Invalidator {
public:
    Invalidator() = default;
    Invalidator(const Invalidator&) = delete;
    Invalidator& operator=(const Invalidator&) = delete;
    ~Invalidator() { stop(); }

    void start(fuse_session* session);
    // Drops what is queued (the mount is going away) and joins the thread.
    void stop();

    // Drop the kernel's cached pages of [offset, offset + length) of `ino`.
    void invalidate(std::uint64_t ino, std::uint64_t offset, std::uint64_t length) noexcept;
    // Tell the kernel the true size of `ino` again, after an O_TRUNC open
    // made it believe the file is empty.
    void restore_size(std::uint64_t ino, std::shared_ptr<const Window> window) noexcept;

private:
    struct Job {
        std::uint64_t ino = 0;
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
        std::shared_ptr<const Window> size_of;  // set for restore_size
    };

    void push(Job job) noexcept;
    void run();
    void send(const Job& job) const;

    fuse_session* session_ = nullptr;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace mapfs
