#include "fuse/operations.hpp"
#include "fuse/filesystem.hpp"

namespace mapfs::ops {

namespace {

void read_status(fuse_req_t request, const std::string& snapshot, std::size_t size, off_t offset) {
    const ByteRange range = clamp_read(snapshot.size(), static_cast<std::uint64_t>(offset), size);
    fuse_reply_buf(request, snapshot.data() + range.offset, range.length);
}

}  // namespace

void read(fuse_req_t request, fuse_ino_t, std::size_t size, off_t offset, fuse_file_info* info) noexcept {
    OpenFile& open_file = open_file_of(info);
    if (open_file.window == nullptr) {
        read_status(request, open_file.status_snapshot, size, offset);
        return;
    }
    restore_size_if_pending(filesystem_of(request), open_file);
    const Window& window = *open_file.window;
    const ByteRange range = clamp_read(window.length_bytes(), static_cast<std::uint64_t>(offset), size);
    // The reply's iovec points into the mapping: libfuse hands it to
    // writev(2) on /dev/fuse and the kernel copies straight from the pages.
    fuse_bufvec reply = FUSE_BUFVEC_INIT(range.length);
    reply.buf[0].mem = range.length == 0 ? nullptr : window.bytes().data() + range.offset;
    window.counters.reads.fetch_add(1, std::memory_order_relaxed);
    window.counters.bytes_read.fetch_add(range.length, std::memory_order_relaxed);
    if (fuse_reply_data(request, &reply, fuse_buf_copy_flags{}) != 0)
        window.counters.errors.fetch_add(1, std::memory_order_relaxed);  // the mapped bytes are gone: EIO
}

}  // namespace mapfs::ops
