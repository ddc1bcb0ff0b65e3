#include <algorithm>
#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "fuse/stale_copies.hpp"
#include "mapping/fault_guard.hpp"

namespace mapfs::ops {

namespace {

// The most one request copies: a worker is not tied up for long, and the
// caller (cp) asks again for the rest.
constexpr std::size_t chunk_bytes = std::size_t{32} << 20;

}  // namespace

// copy_file_range(2) between windows, done here from mapping to mapping in
// one request instead of a read and a write through the kernel. The ranges
// may overlap (one window, or two over the same bytes).
void copy_file_range(fuse_req_t request, fuse_ino_t ino_in, off_t offset_in, fuse_file_info* info_in, fuse_ino_t ino_out,
                     off_t offset_out, fuse_file_info* info_out, std::size_t length, int flags) noexcept {
    const auto source = handle_of(request, ino_in, info_in);
    const auto target = handle_of(request, ino_out, info_out);
    if (source == nullptr || target == nullptr || source->window() == nullptr || target->window() == nullptr ||
        flags != 0 || offset_in < 0 || offset_out < 0) {
        fuse_reply_err(request, source == nullptr || target == nullptr ? EBADF : EINVAL);
        return;
    }
    const Window& from = *source->window();
    const Window& to = *target->window();
    if (to.access() == Access::read) {
        fuse_reply_err(request, EBADF);
        return;
    }
    const ByteRange read = clamp_read(from.length_bytes(), static_cast<std::uint64_t>(offset_in), std::min(length, chunk_bytes));
    if (read.length == 0) {
        fuse_reply_write(request, 0);
        return;
    }
    const auto written = clamp_write(to.length_bytes(), static_cast<std::uint64_t>(offset_out), read.length);
    if (!written) {
        fuse_reply_err(request, written.error());
        return;
    }
    const int error = guarded_move(to.bytes().data() + written->offset, from.bytes().data() + read.offset, written->length);
    from.counters.reads.fetch_add(1, std::memory_order_relaxed);
    to.counters.writes.fetch_add(1, std::memory_order_relaxed);
    if (error != 0) {
        to.counters.errors.fetch_add(1, std::memory_order_relaxed);
        fuse_reply_err(request, error);
        return;
    }
    from.counters.bytes_read.fetch_add(written->length, std::memory_order_relaxed);
    to.counters.bytes_written.fetch_add(written->length, std::memory_order_relaxed);
    if (to.shares_region_mapping())
        drop_stale_copies(filesystem_of(request), target->ino(), to, written->offset, written->length);
    fuse_reply_write(request, written->length);
}

}  // namespace mapfs::ops
