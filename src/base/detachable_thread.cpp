#include "base/detachable_thread.hpp"

#include "base/log.hpp"

namespace mapfs {

bool DetachableThread::join_until(Clock::time_point deadline, const char* what) {
    if (!thread_.joinable()) return true;
    std::unique_lock lock(mutex_);
    const bool finished = finished_.wait_until(lock, deadline, [this] { return !running_; });
    lock.unlock();
    if (finished) {
        thread_.join();
    } else {
        log::warn("{} is still blocked; leaving it behind", what);
        thread_.detach();
    }
    return finished;
}

}  // namespace mapfs
