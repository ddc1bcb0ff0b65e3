// A thread that a stop may have to leave behind. One that waits on the
// kernel (a reload opening a file on a hung mount, a notification waiting
// for a page lock) cannot be interrupted, and the daemon must stop anyway:
// after a deadline it is detached, and the process's exit ends it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace mapfs {

class DetachableThread {
public:
    using Clock = std::chrono::steady_clock;

    DetachableThread() = default;
    DetachableThread(const DetachableThread&) = delete;
    DetachableThread& operator=(const DetachableThread&) = delete;
    ~DetachableThread() { join_until(Clock::now(), "a thread"); }

    // Runs `body` on a new thread.
    void start(std::function<void()> body) {
        {
            std::lock_guard lock(mutex_);
            running_ = true;
        }
        thread_ = std::thread([this, body = std::move(body)] {
            body();
            std::lock_guard lock(mutex_);
            running_ = false;
            finished_.notify_all();
        });
    }

    // Waits until `deadline` for the body to return, then joins the thread;
    // false when it is still running then: it is detached, and `what` is
    // logged as left behind.
    bool join_until(Clock::time_point deadline, const char* what);

private:
    std::mutex mutex_;
    std::condition_variable finished_;
    bool running_ = false;
    std::thread thread_;
};

}  // namespace mapfs
