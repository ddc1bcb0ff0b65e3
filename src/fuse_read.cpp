#include "fuse_ops.hpp"
#include "mapfs/filesystem.hpp"

namespace mapfs::ops {

void read(fuse_req_t request, fuse_ino_t, std::size_t size, off_t offset, fuse_file_info* info) noexcept {
    OpenFile& open_file = open_file_of(info);
    restore_size_if_pending(filesystem_of(request), open_file);
    const Window& window = *open_file.window;
    const ByteRange range = clamp_read(window.length_bytes(), static_cast<std::uint64_t>(offset), size);
    // The reply's iovec points into the mapping: libfuse hands it to
    // writev(2) on /dev/fuse and the kernel copies straight from the pages.
    fuse_bufvec reply = FUSE_BUFVEC_INIT(range.length);
    reply.buf[0].mem = range.length == 0 ? nullptr : window.bytes().data() + range.offset;
    fuse_reply_data(request, &reply, fuse_buf_copy_flags{});
}

}  // namespace mapfs::ops
