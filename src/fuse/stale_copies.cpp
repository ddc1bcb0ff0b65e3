#include "fuse/stale_copies.hpp"

#include <algorithm>
#include <vector>

namespace mapfs {

namespace {

struct Stale {
    InodeNumber ino;
    std::uint64_t offset;  // in that window
    std::uint64_t length;
};

// The windows other than the writer's whose cached pages show file bytes
// [start, end): open ones (wherever they came from, a reload included) and
// closed `keep` ones, whose pages the kernel keeps after the last close.
// Closed `cto` windows are marked instead: their next open drops what the
// kernel kept (Window::cache_valid_at_open). A `cto` window is marked even
// when open, so that an open racing this write cannot keep pages from
// before it. Closed `auto` windows need nothing: every open drops their
// pages. The registry is read after the bytes were stored: a window a
// racing reload adds is either in it or opened after the store.
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
    filesystem.current_registry()->for_each_caching_window(file, start, end, [&](InodeNumber ino, const Window& other) {
        if (ino == writer) return;
        if (other.cache() == CacheMode::close_to_open) other.mark_cache_stale();
        else if (other.cache() == CacheMode::keep) collect(ino, other);
    });
    // An open keep window came up twice.
    std::sort(stale.begin(), stale.end(), [](const Stale& a, const Stale& b) { return a.ino < b.ino; });
    stale.erase(std::unique(stale.begin(), stale.end(), [](const Stale& a, const Stale& b) { return a.ino == b.ino; }),
                stale.end());
    return stale;
}

}  // namespace

// A reader who starts after the request's reply then sees the new bytes.
// The notifications are sent by the notifier's thread, never from this
// request (see kernel_notifier.hpp).
void drop_stale_copies(Filesystem& filesystem, InodeNumber changed_through, const Window& window, std::uint64_t offset,
                       std::uint64_t length) noexcept {
    const std::uint64_t start = window.offset_bytes() + offset;
    KernelNotifier::Ticket last = 0;
    try {
        for (const Stale& stale : stale_windows(filesystem, changed_through, window, start, start + length))
            last = std::max(last, filesystem.kernel.invalidate_pages(stale.ino, stale.offset, stale.length));
    } catch (const std::bad_alloc&) {
        filesystem.late_invalidations.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const auto deadline = KernelNotifier::Clock::now() + filesystem.invalidation_wait;
    if (!filesystem.kernel.wait_sent(last, deadline)) filesystem.late_invalidations.fetch_add(1, std::memory_order_relaxed);
}


}  // namespace mapfs
