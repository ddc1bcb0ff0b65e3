#include "base/positional_io.hpp"

#include <unistd.h>

#include <cerrno>

namespace mapfs {

namespace {

// Runs `step(done)` (a pread or pwrite of what is left) until `length` bytes are done.
template <class Step>
bool until_done(std::size_t length, Step&& step) noexcept {
    std::size_t done = 0;
    while (done < length) {
        const ssize_t got = step(done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        done += static_cast<std::size_t>(got);
    }
    return true;
}

}  // namespace

bool read_fully_at(int fd, void* data, std::size_t length, std::uint64_t offset) noexcept {
    auto* bytes = static_cast<char*>(data);
    return until_done(length, [&](std::size_t done) {
        return ::pread(fd, bytes + done, length - done, static_cast<off_t>(offset + done));
    });
}

bool write_fully_at(int fd, const void* data, std::size_t length, std::uint64_t offset) noexcept {
    const auto* bytes = static_cast<const char*>(data);
    return until_done(length, [&](std::size_t done) {
        return ::pwrite(fd, bytes + done, length - done, static_cast<off_t>(offset + done));
    });
}

}  // namespace mapfs
