// The OPEN reply of a passed-through open carries FOPEN_PASSTHROUGH and a
// backing id, which libfuse 3.14's fuse_reply_open cannot write (3.17's
// can, from fi->backing_id; one path serves both). The open callback marks
// the reply it is about to send; the transport's write hook, which libfuse
// calls on the same thread inside fuse_reply_open, adds the two fields.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "namespace/passthrough_protocol.hpp"

namespace mapfs {

class PassthroughReply {
public:
    // The next reply this thread sends is the OPEN reply for `backing_id`.
    explicit PassthroughReply(std::uint32_t backing_id) noexcept : previous_(pending_) { pending_ = backing_id; }
    ~PassthroughReply() { pending_ = previous_; }
    PassthroughReply(const PassthroughReply&) = delete;
    PassthroughReply& operator=(const PassthroughReply&) = delete;

    // Whether this thread is about to send a passed-through OPEN reply: one
    // thread-local load on the path of every reply.
    static bool pending() noexcept { return pending_ != 0; }
    // For the write hook: when this thread is sending a passed-through OPEN
    // reply (a successful one, header in iov[0], fuse_open_out after it),
    // points `iov[1]` at `patched`, a copy of fuse_open_out with the
    // passthrough fields set. False for every other reply.
    static bool patch(struct iovec* iov, int count, unsigned char (&patched)[passthrough::open_out_bytes]) noexcept;

private:
    static thread_local std::uint32_t pending_;
    std::uint32_t previous_;
};

}  // namespace mapfs
