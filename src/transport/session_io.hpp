// The session's reads and writes of /dev/fuse, through libfuse's custom I/O
// hooks (fuse_session_custom_io). Owning them lets mapfs:
//  - keep the INIT request the kernel sends once per connection, and play
//    it to a new server that takes the connection over (libfuse must see an
//    INIT before it serves anything, and the kernel will not send another);
//  - swallow the reply to such a replayed INIT (the kernel has had one);
//  - ask in the INIT reply for FUSE_HANDLE_KILLPRIV_V2, which libfuse 3.14
//    cannot negotiate: without it the kernel sends a GETXATTR of
//    security.capability before every write, since mapfs has xattrs;
//  - ask for FUSE passthrough, and write the passthrough fields of OPEN
//    replies (fuse/passthrough_reply.hpp), which libfuse 3.14 cannot;
//  - give each worker a descriptor of its own (a clone of the session's),
//    where that is better than sharing one.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

struct fuse_session;

namespace mapfs {

class SessionIo {
public:
    SessionIo() = default;
    SessionIo(const SessionIo&) = delete;
    SessionIo& operator=(const SessionIo&) = delete;
    ~SessionIo();

    // Installs the hooks on `session` for the connection `fd` (not owned).
    // 0 or a negative errno.
    int install(fuse_session* session, int fd);
    int fd() const noexcept { return fd_; }

    // The INIT request to hand `session` before anything the kernel sends:
    // the connection's own, kept from the server that first served it.
    void replay_init(std::vector<std::byte> request);
    // Called once with the INIT request, as the kernel sent it (not a replay).
    std::function<void(std::span<const std::byte>)> on_init_request;
    // Called once the kernel has taken this server's INIT reply (not a
    // replayed one): what waits for an initialized connection (io_uring
    // registration: with io_uring taken, the kernel holds every request
    // back until the rings are registered) starts here.
    std::function<void()> on_init_answered;

    // The descriptor this thread reads requests from and replies on; -1 for
    // the session's. A reply must go back on the descriptor its request came
    // from: the kernel keeps a request being served with that descriptor.
    static void use_for_this_thread(int fd) noexcept;

    // Whether the INIT reply asked for FUSE_HANDLE_KILLPRIV_V2 (the kernel
    // offered it).
    bool asked_killpriv_v2() const noexcept { return asked_killpriv_v2_.load(); }

    // Before INIT: ask for FUSE over io_uring when the kernel offers it.
    void want_io_uring(bool wanted) noexcept { want_io_uring_ = wanted; }
    // After INIT: whether the kernel offered io_uring, and whether the reply
    // took it (the rings may then be registered).
    bool kernel_offered_io_uring() const noexcept { return offered_io_uring_.load(); }
    bool asked_io_uring() const noexcept { return asked_io_uring_.load(); }

    // Before INIT: ask for FUSE passthrough when the kernel offers it.
    void want_passthrough(bool wanted) noexcept { want_passthrough_ = wanted; }
    // Called with what this server's INIT reply set up (not a replayed
    // one's), before the kernel has it: whether the kernel offered
    // passthrough, and whether the reply takes it.
    std::function<void(bool offered, bool taken)> on_passthrough_set_up;

private:
    static ssize_t read_hook(int fd, void* buffer, std::size_t length, void* userdata);
    static ssize_t writev_hook(int fd, struct iovec* iov, int count, void* userdata);
    ssize_t read(int fd, void* buffer, std::size_t length);
    ssize_t writev(int fd, struct iovec* iov, int count);
    bool is_init_reply(const struct iovec* iov, int count);

    int fd_ = -1;
    std::mutex mutex_;
    std::vector<std::byte> pending_replay_;  // served by the next read
    bool replaying_ = false;                 // its reply goes nowhere
    std::condition_variable init_replayed_;  // replaying_ went false
    std::uint64_t init_unique_ = 0;          // the INIT being answered
    bool init_answered_ = false;
    std::uint32_t kernel_init_flags_ = 0;
    std::uint32_t kernel_init_flags2_ = 0;
    std::atomic<bool> asked_killpriv_v2_{false};
    bool want_io_uring_ = false;
    std::atomic<bool> offered_io_uring_{false};
    std::atomic<bool> asked_io_uring_{false};
    bool want_passthrough_ = false;

    void patch_init_reply(std::vector<std::byte>& reply);
};

}  // namespace mapfs
