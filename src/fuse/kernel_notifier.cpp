#include "fuse/kernel_notifier.hpp"

#include <fuse_lowlevel.h>

#include <cstring>
#include <new>

#include "base/log.hpp"
#include "mapping/window.hpp"

namespace mapfs {

void Invalidator::start(fuse_session* session) {
    session_ = session;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void Invalidator::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        // The session loop has ended: a notification now could wait forever
        // on a page lock held by a request nobody will answer, and the
        // mount is going away with every cached page anyway.
        queue_.clear();
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Invalidator::invalidate(std::uint64_t ino, std::uint64_t offset, std::uint64_t length) noexcept {
    push(Job{ino, offset, length, nullptr});
}

void Invalidator::restore_size(std::uint64_t ino, std::shared_ptr<const Window> window) noexcept {
    push(Job{ino, 0, 0, std::move(window)});
}

void Invalidator::push(Job job) noexcept {
    {
        std::lock_guard lock(mutex_);
        if (!thread_.joinable() || stopping_) return;
        // Back-to-back writes through one window make adjacent ranges: merge.
        if (!queue_.empty()) {
            Job& last = queue_.back();
            if (!job.size_of && !last.size_of && last.ino == job.ino && last.offset + last.length == job.offset) {
                last.length += job.length;
                return;
            }
        }
        try {
            queue_.push_back(std::move(job));
        } catch (const std::bad_alloc&) {
            return;  // out of memory: a cached page stays stale until the next open
        }
    }
    wake_.notify_one();
}

void Invalidator::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) break;  // stopping and nothing left
        const Job job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        send(job);
        lock.lock();
    }
}

void Invalidator::send(const Job& job) const {
    if (!job.size_of) {
        const int result = fuse_lowlevel_notify_inval_inode(session_, job.ino, static_cast<off_t>(job.offset),
                                                            static_cast<off_t>(job.length));
        // ENOENT: the kernel has no such inode cached, so nothing to drop.
        if (result != 0 && result != -ENOENT)
            log::debug("invalidating inode {} failed: {}", job.ino, std::strerror(-result));
        return;
    }
    // Storing the last byte makes the kernel extend its idea of the size
    // back to the true length; no other notification sets a size.
    const Window& window = *job.size_of;
    if (window.length_bytes() == 0) return;
    const std::uint64_t last = window.length_bytes() - 1;
    fuse_bufvec buffer = FUSE_BUFVEC_INIT(1);
    buffer.buf[0].mem = window.bytes().data() + last;
    buffer.buf[0].size = 1;
    const int result = fuse_lowlevel_notify_store(session_, job.ino, static_cast<off_t>(last), &buffer,
                                                  fuse_buf_copy_flags{});
    if (result != 0 && result != -ENOENT)
        log::debug("restoring the size of inode {} failed: {}", job.ino, std::strerror(-result));
}

}  // namespace mapfs
