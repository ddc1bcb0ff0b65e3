#include <cerrno>

#include "fuse/filesystem.hpp"
#include "fuse/operations.hpp"
#include "fuse/stale_copies.hpp"
#include "mapping/fault_guard.hpp"

namespace mapfs::ops {

void write(fuse_req_t request, fuse_ino_t ino, const char* data, std::size_t size, off_t offset,
           fuse_file_info* info) noexcept {
    Filesystem& filesystem = filesystem_of(request);
    const auto handle = handle_of(request, ino, info);
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
    if (window.shares_region_mapping() && range->length > 0)
        drop_stale_copies(filesystem, handle->ino(), window, range->offset, range->length);
    fuse_reply_write(request, range->length);
}

}  // namespace mapfs::ops
