// Every notification mapfs sends to the kernel goes through here: dropping
// cached pages of a window after a write through another, and forgetting
// names, listings, attributes and pages that a reload or a takeover changed.
// They are sent by a thread of its own.
//
// Why a thread: libfuse warns that a notify call made in the execution path
// of a related request can deadlock. Dropping window B's pages needs B's
// page locks, which the kernel may hold while it waits for this daemon to
// answer a request on B; with one session thread (-s), or with every worker
// busy, a worker that notified inline would wait for itself. A worker
// instead queues the notification and waits for it with a deadline
// (wait_sent): in the common case the pages are gone before it replies,
// and in the deadlocked one it replies anyway when the deadline passes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "base/detachable_thread.hpp"
#include "namespace/namespace_changes.hpp"

struct fuse_session;

namespace mapfs {

class KernelNotifier {
public:
    using Clock = std::chrono::steady_clock;
    // Identifies a queued notification for wait_sent(); 0 means none.
    using Ticket = std::uint64_t;

    KernelNotifier() = default;
    KernelNotifier(const KernelNotifier&) = delete;
    KernelNotifier& operator=(const KernelNotifier&) = delete;
    ~KernelNotifier();

    void start(fuse_session* session);
    // Drops what is queued and waits until `deadline` for a notification
    // being sent to finish. False when the thread is still stuck in the
    // kernel then; it is left behind, and the caller must not wait for it.
    bool stop(Clock::time_point deadline);

    // Drop the kernel's cached pages of [offset, offset + length) of `ino`.
    Ticket invalidate_pages(std::uint64_t ino, std::uint64_t offset, std::uint64_t length) noexcept;
    // Drop the cached name `name` in directory `parent`.
    Ticket forget_name(std::uint64_t parent, std::string name) noexcept;
    // Drop everything cached of `ino`: attributes, pages, directory listing.
    Ticket forget_inode(std::uint64_t ino) noexcept;
    // Drop the cached attributes of `ino` only: its pages stay.
    Ticket forget_attributes(std::uint64_t ino) noexcept;
    // Everything a reload or a takeover changed (namespace_changes.hpp);
    // the ticket of the last notification.
    Ticket tell(const NamespaceChanges& changes) noexcept;

    // Waits until every notification up to `ticket` has been sent, or until
    // `deadline`; true when they have been.
    bool wait_sent(Ticket ticket, Clock::time_point deadline) noexcept;

private:
    enum class Kind { pages, name, inode, attributes };
    struct Job {
        Kind kind = Kind::pages;
        std::uint64_t ino = 0;
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
        std::string name;
        Ticket ticket = 0;
    };

    Ticket push(Job job) noexcept;
    bool merge_into_last(const Job& job) noexcept;
    void run();
    void send(const Job& job) const;

    fuse_session* session_ = nullptr;
    std::mutex mutex_;
    std::condition_variable work_;
    std::condition_variable progress_;
    std::deque<Job> queue_;
    Ticket pushed_ = 0;
    Ticket sent_ = 0;
    bool stopping_ = false;
    bool accepting_ = false;  // started and not stopping
    DetachableThread thread_;
};

}  // namespace mapfs
