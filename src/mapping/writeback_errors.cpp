#include "mapping/writeback_errors.hpp"

namespace mapfs {

std::uint64_t WritebackErrors::generation() const noexcept {
    std::lock_guard lock(mutex_);
    return generation_;
}

void WritebackErrors::record(int error) noexcept {
    if (error == 0) return;
    std::lock_guard lock(mutex_);
    ++generation_;
    last_error_ = error;
}

int WritebackErrors::take(std::uint64_t& seen) const noexcept {
    std::lock_guard lock(mutex_);
    if (seen >= generation_) return 0;
    seen = generation_;
    return last_error_;
}

}  // namespace mapfs
