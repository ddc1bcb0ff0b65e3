#include <algorithm>
#include <cerrno>
#include <memory>
#include <new>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "fuse/stale_copies.hpp"
#include "mapping/fault_guard.hpp"

namespace mapfs::ops {

namespace {

// The most one request copies: a worker is not tied up for long, and the
// caller (cp) asks again for the rest.
constexpr std::size_t chunk_bytes = std::size_t{32} << 20;
// What an overlapping copy moves at a time through its bounce buffer.
constexpr std::size_t bounce_bytes = std::size_t{64} << 10;

// Where the copy's source bytes live: the file (and offset in it) a store
// to them shows in. A copy window's pages not yet copied on write are the
// file's too, so its bytes count as the file's: a store by the target can
// change what it reads.
struct FileSpan {
    FileIdentity file;
    std::uint64_t start = 0;
};

FileSpan file_span(const Window& window, std::uint64_t offset) {
    return {window.region().identity(), window.offset_bytes() + offset};
}

// Whether storing the target's bytes can change source bytes not yet read:
// both are bytes of one file and the ranges overlap there. Windows of one
// file map it through different views (read, write, a copy window's own
// mapping) at unrelated addresses, so memmove cannot see that overlap.
bool overlap_in_file(const FileSpan& source, const FileSpan& target, std::uint64_t length, bool target_stores_in_file) {
    return target_stores_in_file && source.file == target.file && source.start < target.start + length &&
           target.start < source.start + length;
}

// Copies through a bounce buffer, chunk by chunk, in the direction that never
// stores over a source byte still to be read: from the end when the target
// lies after the source in the file, from the start otherwise. 0 or errno.
int copy_in_file_order(std::byte* target, const std::byte* source, std::size_t length, bool from_the_end) noexcept {
    const std::unique_ptr<std::byte[]> bounce(new (std::nothrow) std::byte[bounce_bytes]);
    if (!bounce) return ENOMEM;
    for (std::size_t done = 0; done < length;) {
        const std::size_t step = std::min(bounce_bytes, length - done);
        const std::size_t at = from_the_end ? length - done - step : done;
        if (const int error = guarded_copy(bounce.get(), source + at, step); error != 0) return error;
        if (const int error = guarded_copy(target + at, bounce.get(), step); error != 0) return error;
        done += step;
    }
    return 0;
}

// memmove; or, where the target's stores reach source bytes still to be
// read through another view of the same pages, the ordered copy above.
int move_bytes(const Window& from, std::uint64_t from_offset, const Window& to, std::uint64_t to_offset,
               std::size_t length) noexcept {
    std::byte* target = to.bytes().data() + to_offset;
    const std::byte* source = from.bytes().data() + from_offset;
    const FileSpan source_span = file_span(from, from_offset);
    const FileSpan target_span = file_span(to, to_offset);
    if (!overlap_in_file(source_span, target_span, length, to.shares_region_mapping()))
        return guarded_move(target, source, length);
    return copy_in_file_order(target, source, length, target_span.start > source_span.start);
}

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
    const int error = move_bytes(from, read.offset, to, written->offset, written->length);
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
