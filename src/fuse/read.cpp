#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "mapping/fault_guard.hpp"

namespace mapfs::ops {

namespace {

void read_status(fuse_req_t request, const std::string& report, std::size_t size, off_t offset) {
    const ByteRange range = clamp_read(report.size(), static_cast<std::uint64_t>(offset), size);
    fuse_reply_buf(request, report.data() + range.offset, range.length);
}

}  // namespace

void read(fuse_req_t request, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* info) noexcept {
    const auto handle = handle_of(request, ino, info);
    if (handle == nullptr) {
        fuse_reply_err(request, EBADF);
        return;
    }
    const Window* window = handle->window();
    if (window == nullptr) {
        read_status(request, handle->status_report(), size, offset);
        return;
    }
    const ByteRange range = clamp_read(window->length_bytes(), static_cast<std::uint64_t>(offset), size);
    std::byte* bytes = range.length == 0 ? nullptr : window->bytes().data() + range.offset;
    window->counters.reads.fetch_add(1, std::memory_order_relaxed);
    window->counters.bytes_read.fetch_add(range.length, std::memory_order_relaxed);
    // The reply's iovec points into the mapping: libfuse hands it to
    // writev(2) on /dev/fuse and the kernel copies straight from the pages.
    // They are faulted in first: a fault inside that copy (a slow backing
    // file) would leave a server killed there with the request ended with
    // EIO by the kernel, where a server killed here leaves it unanswered,
    // for the next server to get again (FUSE_NOTIFY_RESEND). Touching them
    // costs no system call when they are resident (MADV_POPULATE_READ was
    // one per read, half of a ring request's system calls).
    if (guarded_touch(bytes, range.length) != 0) {
        window->counters.errors.fetch_add(1, std::memory_order_relaxed);  // the mapped bytes are gone
        fuse_reply_err(request, EIO);
        return;
    }
    fuse_bufvec reply = FUSE_BUFVEC_INIT(range.length);
    reply.buf[0].mem = bytes;
    if (fuse_reply_data(request, &reply, fuse_buf_copy_flags{}) != 0)
        window->counters.errors.fetch_add(1, std::memory_order_relaxed);  // gone since: EIO
}

}  // namespace mapfs::ops
