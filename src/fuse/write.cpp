#include "fuse/operations.hpp"
#include "mapping/fault_guard.hpp"
#include "fuse/filesystem.hpp"

namespace mapfs::ops {

namespace {

// Queues the invalidation of the kernel's cached pages of every other window
// that shows the bytes just written. The notifications are sent by the
// invalidator thread, never from this request (see invalidator.hpp).
void invalidate_overlapping(Filesystem& filesystem, const Window& writer, const ByteRange& written) {
    const std::uint64_t start = writer.offset_bytes() + written.offset;
    const std::uint64_t end = start + written.length;
    const auto invalidate = [&](InodeNumber ino, const Window& other) {
        if (other.cache() == CacheMode::none) return;  // direct I/O caches nothing
        // An auto window's cache is dropped at open, so a closed one has none.
        if (other.cache() == CacheMode::automatic && other.open_handles.load(std::memory_order_relaxed) == 0) return;
        const std::uint64_t from = std::max(start, other.offset_bytes());
        const std::uint64_t to = std::min(end, other.offset_bytes() + other.length_bytes());
        if (from < to) filesystem.invalidator.invalidate(ino, from - other.offset_bytes(), to - from);
    };
    filesystem.current_registry()->for_each_overlapping(writer, start, written.length, invalidate);
    // Windows a reload replaced while they stayed open still cache pages.
    if (!filesystem.open_windows.any_retired()) return;
    filesystem.open_windows.for_each_retired([&](InodeNumber ino, const Window& other) {
        if (&other != &writer && other.region().identity() == writer.region().identity())
            invalidate(ino, other);
    });
}

}  // namespace

void write(fuse_req_t request, fuse_ino_t, const char* data, std::size_t size, off_t offset,
           fuse_file_info* info) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    OpenFile& open_file = open_file_of(info);
    restore_size_if_pending(filesystem, open_file);
    const Window& window = *open_file.window;
    const auto range = clamp_write(window.length_bytes(), static_cast<std::uint64_t>(offset), size);
    window.counters.writes.fetch_add(1, std::memory_order_relaxed);
    if (!range) {
        window.counters.errors.fetch_add(1, std::memory_order_relaxed);
        fuse_reply_err(request, range.error());
        return;
    }
    if (const int error = guarded_copy(window.bytes().data() + range->offset, data, range->length); error != 0) {
        window.counters.errors.fetch_add(1, std::memory_order_relaxed);
        fuse_reply_err(request, error);  // the backing file no longer has these bytes
        return;
    }
    window.counters.bytes_written.fetch_add(range->length, std::memory_order_relaxed);
    fuse_reply_write(request, range->length);
    // Copy windows are private: nobody else sees their writes.
    if (window.shares_region_mapping() && range->length > 0) invalidate_overlapping(filesystem, window, *range);
}

}  // namespace mapfs::ops
