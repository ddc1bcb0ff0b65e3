#include "transport/session_io.hpp"

#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "fuse/filesystem.hpp"
#include "fuse/passthrough_reply.hpp"
#include "namespace/passthrough_protocol.hpp"
#include "transport/uring_protocol.hpp"
#include "transport/uring_transport.hpp"

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

// libfuse hands the hooks the session's userdata, which is the Filesystem
// the operations need; a process serves one session, so the hooks reach
// their SessionIo as the one installed.
std::atomic<SessionIo*> installed{nullptr};

SessionIo& io_of(void*) { return *installed.load(std::memory_order_acquire); }

}  // namespace

SessionIo::~SessionIo() {
    SessionIo* self = this;
    installed.compare_exchange_strong(self, nullptr);
}

int SessionIo::install(fuse_session* session, int fd) {
    fd_ = fd;
    installed.store(this, std::memory_order_release);
    // Kept for the session's life whatever libfuse does with the pointer;
    // value-initialised, then filled: libfuse 3.17 adds members
    // (clone_fd) that stay null.
    static const fuse_custom_io hooks = [] {
        fuse_custom_io io{};
        io.writev = &SessionIo::writev_hook;
        io.read = &SessionIo::read_hook;
        return io;
    }();
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

namespace {

// The kernel copies each request into this buffer. Should the copy meet a
// page not yet present while the process is being killed, the fault fails
// and the kernel ends the request with EIO, where a request the server
// never took stays with the kernel for the next server (RESEND): a write
// through a takeover failed that way. So each thread's buffer is made
// present and writable before its first read.
void make_present(void* buffer, std::size_t length) noexcept {
    thread_local void* present = nullptr;
    if (buffer == present) return;
    auto* bytes = static_cast<volatile unsigned char*>(buffer);
    for (std::size_t at = 0; at < length; at += 4096) bytes[at] = 0;
    present = buffer;
}

}  // namespace

ssize_t SessionIo::read(int fd, void* buffer, std::size_t length) {
    make_present(buffer, length);
    {
        std::unique_lock lock(mutex_);
        // libfuse answers EIO to anything it is handed before an INIT: while
        // another thread serves the replayed one, the requests the kernel
        // already holds (RESEND put back what the previous server had read)
        // wait here. Woken by the INIT reply, or after a while with EINTR
        // so that a stopping worker sees it is stopping.
        if (pending_replay_.empty() && replaying_ &&
            !init_replayed_.wait_for(lock, std::chrono::milliseconds(50), [this] { return !replaying_; })) {
            errno = EINTR;
            return -1;
        }
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
            kernel_init_flags2_ = field_at<std::uint32_t>(pending_replay_.data(), in_header_bytes + offsetof(fuse_init_in, flags2));
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
        kernel_init_flags2_ = field_at<std::uint32_t>(bytes, in_header_bytes + offsetof(fuse_init_in, flags2));
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
    unsigned char open_reply[passthrough::open_out_bytes];
    struct iovec patched[2];
    if (PassthroughReply::pending() && count == 2) {
        std::memcpy(patched, iov, sizeof patched);
        if (PassthroughReply::patch(patched, count, open_reply)) iov = patched;
    }
    // A request that came through a ring entry is answered there.
    if (ssize_t written = 0; UringTransport::capture_reply(iov, count, written)) return written;
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
    init_replayed_.notify_all();
    // The kernel answered this INIT long ago, to the server before us.
    if (replayed) return static_cast<ssize_t>(reply.size());
    patch_init_reply(reply);
    const ssize_t written = ::write(target, reply.data(), reply.size());
    if (written == static_cast<ssize_t>(reply.size()) && on_init_answered) on_init_answered();
    return written;
}

// What libfuse 3.14 cannot negotiate: HANDLE_KILLPRIV_V2, FUSE over
// io_uring and passthrough (flags2 bits, which count only with
// FUSE_INIT_EXT).
void SessionIo::patch_init_reply(std::vector<std::byte>& reply) {
    constexpr std::size_t flags_at = out_header_bytes + offsetof(fuse_init_out, flags);
    constexpr std::size_t flags2_at = out_header_bytes + offsetof(fuse_init_out, flags2);
    constexpr std::size_t stack_depth_at = out_header_bytes + passthrough::init_out_max_stack_depth_offset;
    static_assert(passthrough::init_out_max_stack_depth_offset == offsetof(fuse_init_out, flags2) + 4);
    const bool passthrough_offered = (kernel_init_flags_ & FUSE_INIT_EXT) != 0 &&
                                     (kernel_init_flags2_ & passthrough::init_flag2) != 0;
    bool passthrough_taken = false;
    const auto tell_passthrough = [&] {
        if (on_passthrough_set_up) on_passthrough_set_up(passthrough_offered, passthrough_taken);
    };
    if (reply.size() < flags2_at + 4 || field_at<std::int32_t>(reply.data(), offsetof(fuse_out_header, error)) != 0) {
        tell_passthrough();
        return;
    }
    std::uint32_t flags = field_at<std::uint32_t>(reply.data(), flags_at);
    std::uint32_t flags2 = field_at<std::uint32_t>(reply.data(), flags2_at);
    if ((kernel_init_flags_ & FUSE_HANDLE_KILLPRIV_V2) != 0) {
        flags |= FUSE_HANDLE_KILLPRIV_V2;
        asked_killpriv_v2_ = true;
    }
    const std::uint32_t uring_bit = static_cast<std::uint32_t>(uring::over_io_uring_flag >> 32);
    const bool offered = (kernel_init_flags_ & FUSE_INIT_EXT) != 0 && (kernel_init_flags2_ & uring_bit) != 0;
    offered_io_uring_ = offered;
    if (offered && want_io_uring_) {
        flags |= FUSE_INIT_EXT;
        flags2 |= uring_bit;
        asked_io_uring_ = true;
    }
    // Passthrough cannot work with the writeback cache, which mapfs never
    // asks for (init.cpp). max_stack_depth lies in words the reply has
    // whatever the protocol version libfuse writes (its fuse_init_out).
    if (passthrough_offered && want_passthrough_ && (flags & FUSE_WRITEBACK_CACHE) == 0 &&
        reply.size() >= stack_depth_at + 4) {
        flags |= FUSE_INIT_EXT;
        flags2 |= passthrough::init_flag2;
        std::memcpy(reply.data() + stack_depth_at, &passthrough::max_stack_depth, sizeof passthrough::max_stack_depth);
        passthrough_taken = true;
    }
    std::memcpy(reply.data() + flags_at, &flags, sizeof flags);
    std::memcpy(reply.data() + flags2_at, &flags2, sizeof flags2);
    tell_passthrough();
}

}  // namespace mapfs
