// Counts FUSE requests as they start and finish, so that the watchdog can
// tell a daemon that serves from one that is stuck: it pings systemd while
// requests finish or none is waiting, and stops while requests are stuck.
#pragma once

#include <atomic>
#include <cstdint>

namespace mapfs {

class RequestMeter {
public:
    void started() noexcept { started_.fetch_add(1, std::memory_order_relaxed); }
    void finished() noexcept { finished_.fetch_add(1, std::memory_order_relaxed); }

    // True when a request finished since the last call or none is in
    // flight. Called from one thread (the watchdog's).
    bool progressed() noexcept {
        const std::uint64_t done = finished_.load(std::memory_order_relaxed);
        const std::uint64_t begun = started_.load(std::memory_order_relaxed);
        const bool moving = done != finished_at_last_call_ || begun == done;
        finished_at_last_call_ = done;
        return moving;
    }

private:
    std::atomic<std::uint64_t> started_{0};
    std::atomic<std::uint64_t> finished_{0};
    std::uint64_t finished_at_last_call_ = 0;
};

}  // namespace mapfs
