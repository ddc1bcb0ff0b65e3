#include "fuse/kernel_notifier.hpp"

#include <fuse_lowlevel.h>

#include <cstring>
#include <new>

#include "base/log.hpp"

namespace mapfs {

KernelNotifier::~KernelNotifier() { stop(Clock::now() + std::chrono::seconds(2)); }

void KernelNotifier::start(fuse_session* session) {
    {
        std::lock_guard lock(mutex_);
        session_ = session;
        stopping_ = false;
        accepting_ = true;
    }
    thread_.start([this] { run(); });
}

bool KernelNotifier::stop(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    // The mount is going away with every cached page; what is queued no
    // longer matters, and nobody should wait for it.
    queue_.clear();
    sent_ = pushed_;
    accepting_ = false;
    work_.notify_all();
    progress_.notify_all();
    lock.unlock();
    return thread_.join_until(deadline, "a kernel notification");
}

KernelNotifier::Ticket KernelNotifier::invalidate_pages(std::uint64_t ino, std::uint64_t offset,
                                                        std::uint64_t length) noexcept {
    return push(Job{Kind::pages, ino, offset, length, {}, 0});
}

KernelNotifier::Ticket KernelNotifier::forget_name(std::uint64_t parent, std::string name) noexcept {
    return push(Job{Kind::name, parent, 0, 0, std::move(name), 0});
}

KernelNotifier::Ticket KernelNotifier::forget_inode(std::uint64_t ino) noexcept {
    return push(Job{Kind::inode, ino, 0, 0, {}, 0});
}

KernelNotifier::Ticket KernelNotifier::forget_attributes(std::uint64_t ino) noexcept {
    return push(Job{Kind::attributes, ino, 0, 0, {}, 0});
}

KernelNotifier::Ticket KernelNotifier::tell(const NamespaceChanges& changes) noexcept {
    Ticket last = 0;
    const auto later = [&last](Ticket ticket) { last = std::max(last, ticket); };
    for (const NamespaceChanges::Name& name : changes.names) {
        try {
            later(forget_name(name.parent, name.name));
        } catch (const std::bad_alloc&) {  // the name's copy: it stays cached for its timeout
        }
    }
    for (const InodeNumber ino : changes.listings) later(forget_inode(ino));
    for (const InodeNumber ino : changes.pages) later(forget_inode(ino));
    for (const InodeNumber ino : changes.attributes) later(forget_attributes(ino));
    return last;
}

// Back-to-back writes through one window make touching or overlapping
// ranges of one inode: one notification covers them.
bool KernelNotifier::merge_into_last(const Job& job) noexcept {
    if (queue_.empty() || job.kind != Kind::pages) return false;
    Job& last = queue_.back();
    if (last.kind != Kind::pages || last.ino != job.ino) return false;
    if (job.offset > last.offset + last.length || last.offset > job.offset + job.length) return false;
    const std::uint64_t end = std::max(last.offset + last.length, job.offset + job.length);
    last.offset = std::min(last.offset, job.offset);
    last.length = end - last.offset;
    last.ticket = ++pushed_;
    return true;
}

KernelNotifier::Ticket KernelNotifier::push(Job job) noexcept {
    Ticket ticket = 0;
    {
        std::lock_guard lock(mutex_);
        if (!accepting_) return 0;
        if (merge_into_last(job)) {
            ticket = pushed_;
        } else {
            job.ticket = ticket = pushed_ + 1;
            try {
                queue_.push_back(std::move(job));
            } catch (const std::bad_alloc&) {
                return 0;  // out of memory: a cached page stays stale until the next open
            }
            ++pushed_;
        }
    }
    work_.notify_one();
    return ticket;
}

bool KernelNotifier::wait_sent(Ticket ticket, Clock::time_point deadline) noexcept {
    if (ticket == 0) return true;
    std::unique_lock lock(mutex_);
    return progress_.wait_until(lock, deadline, [&] { return sent_ >= ticket; });
}

void KernelNotifier::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) break;
        const Job job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        send(job);
        lock.lock();
        sent_ = std::max(sent_, job.ticket);
        progress_.notify_all();
    }
}

void KernelNotifier::send(const Job& job) const {
    int result = 0;
    switch (job.kind) {
        case Kind::pages:
            result = fuse_lowlevel_notify_inval_inode(session_, job.ino, static_cast<off_t>(job.offset),
                                                      static_cast<off_t>(job.length));
            break;
        case Kind::inode:
            result = fuse_lowlevel_notify_inval_inode(session_, job.ino, 0, 0);
            break;
        case Kind::attributes:
            // A negative offset: attributes only (libfuse, fuse_lowlevel.h).
            result = fuse_lowlevel_notify_inval_inode(session_, job.ino, -1, 0);
            break;
        case Kind::name:
            result = fuse_lowlevel_notify_inval_entry(session_, job.ino, job.name.c_str(), job.name.size());
            break;
    }
    // ENOENT: the kernel has nothing of it cached, so nothing to drop.
    if (result != 0 && result != -ENOENT) log::debug("notifying the kernel about inode {} failed: {}", job.ino, std::strerror(-result));
}

}  // namespace mapfs
