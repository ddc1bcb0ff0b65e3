#include "fuse/session_io.hpp"

#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fuse/filesystem.hpp"

namespace mapfs {

namespace {

thread_local int thread_fd = -1;

constexpr std::size_t in_header_bytes = sizeof(fuse_in_header);
constexpr std::size_t out_header_bytes = sizeof(fuse_out_header);

template <class T>
T field_at(const std::byte* bytes, std::size_t offset) {
    T value;
    std::memcpy(&value, bytes + offset, sizeof value);
    return value;
}

SessionIo& io_of(void* userdata) { return static_cast<Filesystem*>(userdata)->io; }

}  // namespace

int SessionIo::install(fuse_session* session, int fd) {
    fd_ = fd;
    static const fuse_custom_io hooks{&SessionIo::writev_hook, &SessionIo::read_hook, nullptr, nullptr};
    return fuse_session_custom_io(session, &hooks, fd);
}

void SessionIo::replay_init(std::vector<std::byte> request) {
    std::lock_guard lock(mutex_);
    pending_replay_ = std::move(request);
}

void SessionIo::use_for_this_thread(int fd) noexcept { thread_fd = fd; }

ssize_t SessionIo::read_hook(int fd, void* buffer, std::size_t length, void* userdata) {
    return io_of(userdata).read(fd, buffer, length);
}

ssize_t SessionIo::writev_hook(int fd, struct iovec* iov, int count, void* userdata) {
    return io_of(userdata).writev(fd, iov, count);
}

ssize_t SessionIo::read(int fd, void* buffer, std::size_t length) {
    {
        std::lock_guard lock(mutex_);
        if (!pending_replay_.empty()) {
            if (pending_replay_.size() > length || pending_replay_.size() < in_header_bytes + sizeof(fuse_init_in)) {
                pending_replay_.clear();
                errno = EIO;
                return -1;
            }
            const std::size_t size = pending_replay_.size();
            std::memcpy(buffer, pending_replay_.data(), size);
            init_unique_ = field_at<std::uint64_t>(pending_replay_.data(), offsetof(fuse_in_header, unique));
            kernel_init_flags_ = field_at<std::uint32_t>(pending_replay_.data(), in_header_bytes + offsetof(fuse_init_in, flags));
            replaying_ = true;
            pending_replay_.clear();
            return static_cast<ssize_t>(size);
        }
    }
    const ssize_t got = ::read(thread_fd >= 0 ? thread_fd : fd, buffer, length);
    if (got < static_cast<ssize_t>(in_header_bytes + sizeof(fuse_init_in))) return got;
    const auto* bytes = static_cast<const std::byte*>(buffer);
    if (field_at<std::uint32_t>(bytes, offsetof(fuse_in_header, opcode)) != FUSE_INIT) return got;
    std::function<void(std::span<const std::byte>)> keep;
    {
        std::lock_guard lock(mutex_);
        if (init_answered_) return got;
        init_unique_ = field_at<std::uint64_t>(bytes, offsetof(fuse_in_header, unique));
        kernel_init_flags_ = field_at<std::uint32_t>(bytes, in_header_bytes + offsetof(fuse_init_in, flags));
        keep = on_init_request;
    }
    if (keep) keep({bytes, static_cast<std::size_t>(got)});
    return got;
}

bool SessionIo::is_init_reply(const struct iovec* iov, int count) {
    if (count < 1 || iov[0].iov_len < out_header_bytes) return false;
    const auto* header = static_cast<const std::byte*>(iov[0].iov_base);
    std::lock_guard lock(mutex_);
    return !init_answered_ && init_unique_ != 0 &&
           field_at<std::uint64_t>(header, offsetof(fuse_out_header, unique)) == init_unique_;
}

ssize_t SessionIo::writev(int fd, struct iovec* iov, int count) {
    const int target = thread_fd >= 0 ? thread_fd : fd;
    if (!is_init_reply(iov, count)) return ::writev(target, iov, count);
    std::vector<std::byte> reply;
    for (int i = 0; i < count; ++i) {
        const auto* part = static_cast<const std::byte*>(iov[i].iov_base);
        reply.insert(reply.end(), part, part + iov[i].iov_len);
    }
    bool replayed = false;
    {
        std::lock_guard lock(mutex_);
        init_answered_ = true;
        replayed = std::exchange(replaying_, false);
    }
    // The kernel answered this INIT long ago, to the server before us.
    if (replayed) return static_cast<ssize_t>(reply.size());
    constexpr std::size_t flags_at = out_header_bytes + offsetof(fuse_init_out, flags);
    if ((kernel_init_flags_ & FUSE_HANDLE_KILLPRIV_V2) != 0 && reply.size() >= flags_at + 4 &&
        field_at<std::int32_t>(reply.data(), offsetof(fuse_out_header, error)) == 0) {
        const std::uint32_t flags = field_at<std::uint32_t>(reply.data(), flags_at) | FUSE_HANDLE_KILLPRIV_V2;
        std::memcpy(reply.data() + flags_at, &flags, sizeof flags);
        asked_killpriv_v2_ = true;
    }
    const ssize_t written = ::write(target, reply.data(), reply.size());
    return written;
}

}  // namespace mapfs
