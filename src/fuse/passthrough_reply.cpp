#include "fuse/passthrough_reply.hpp"

#include <linux/fuse.h>

#include <cstring>

namespace mapfs {

thread_local std::uint32_t PassthroughReply::pending_ = 0;

bool PassthroughReply::patch(struct iovec* iov, int count, unsigned char (&patched)[passthrough::open_out_bytes]) noexcept {
    if (pending_ == 0 || count != 2 || iov[0].iov_len != sizeof(fuse_out_header) ||
        iov[1].iov_len != passthrough::open_out_bytes)
        return false;
    fuse_out_header header;
    std::memcpy(&header, iov[0].iov_base, sizeof header);
    if (header.error != 0) return false;
    std::memcpy(patched, iov[1].iov_base, sizeof patched);
    std::uint32_t flags = 0;
    std::memcpy(&flags, patched + passthrough::open_out_flags_offset, sizeof flags);
    flags |= passthrough::fopen_passthrough;
    std::memcpy(patched + passthrough::open_out_flags_offset, &flags, sizeof flags);
    std::memcpy(patched + passthrough::open_out_backing_id_offset, &pending_, sizeof pending_);
    iov[1].iov_base = patched;
    pending_ = 0;
    return true;
}

}  // namespace mapfs
