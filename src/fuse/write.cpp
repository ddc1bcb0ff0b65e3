#include <algorithm>
#include <cerrno>
#include <vector>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "mapping/fault_guard.hpp"

namespace mapfs::ops {

namespace {

struct Stale {
    InodeNumber ino;
    std::uint64_t offset;  // in that window
    std::uint64_t length;
};

// The windows other than the writer's whose cached pages show file bytes
// [start, end): open ones (wherever they came from, a reload included) and
// closed `keep` ones, whose pages the kernel keeps after the last close.
// The registry is read after the bytes were stored: a window a racing
// reload adds is either in it or opened after the store.
std::vector<Stale> stale_windows(const Filesystem& filesystem, InodeNumber writer, const Window& window,
                                 std::uint64_t start, std::uint64_t end) {
    std::vector<Stale> stale;
    const auto collect = [&](InodeNumber ino, const Window& other) {
        if (ino == writer || other.cache() == CacheMode::none) return;  // direct I/O caches nothing
        const std::uint64_t from = std::max(start, other.offset_bytes());
        const std::uint64_t to = std::min(end, other.offset_bytes() + other.length_bytes());
        if (from < to) stale.push_back({ino, from - other.offset_bytes(), to - from});
    };
    const FileIdentity& file = window.region().identity();
    filesystem.open_index.for_each_overlapping(file, start, end, collect);
    filesystem.current_registry()->for_each_keep_window(file, start, end, collect);
    // An open keep window came up twice.
    std::sort(stale.begin(), stale.end(), [](const Stale& a, const Stale& b) { return a.ino < b.ino; });
    stale.erase(std::unique(stale.begin(), stale.end(), [](const Stale& a, const Stale& b) { return a.ino == b.ino; }),
                stale.end());
    return stale;
}

// Drops the other windows' cached copies of what was just written, and waits
// (bounded) until the kernel has: a reader who starts after this write's
// reply then sees the new bytes. The notifications are sent by the
// notifier's thread, never from this request (see kernel_notifier.hpp).
void drop_stale_copies(Filesystem& filesystem, InodeNumber writer, const Window& window, const ByteRange& written) {
    const std::uint64_t start = window.offset_bytes() + written.offset;
    KernelNotifier::Ticket last = 0;
    try {
        for (const Stale& stale : stale_windows(filesystem, writer, window, start, start + written.length))
            last = std::max(last, filesystem.kernel.invalidate_pages(stale.ino, stale.offset, stale.length));
    } catch (const std::bad_alloc&) {
        filesystem.late_invalidations.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const auto deadline = KernelNotifier::Clock::now() + filesystem.invalidation_wait;
    if (!filesystem.kernel.wait_sent(last, deadline)) filesystem.late_invalidations.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void write(fuse_req_t request, fuse_ino_t, const char* data, std::size_t size, off_t offset,
           fuse_file_info* info) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    const auto handle = handle_of(request, info);
    if (handle == nullptr || handle->window() == nullptr) {
        fuse_reply_err(request, EBADF);
        return;
    }
    const Window& window = *handle->window();
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
    // Copy windows are private: nobody else sees their writes.
    if (window.shares_region_mapping() && range->length > 0) drop_stale_copies(filesystem, handle->ino(), window, *range);
    fuse_reply_write(request, range->length);
}

}  // namespace mapfs::ops
