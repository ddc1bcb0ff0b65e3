#include "mapping/window.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/log.hpp"
#include "mapping/fault_guard.hpp"


namespace mapfs {

Window::Window(const ResolvedWindow& resolved, std::shared_ptr<const Region> region, std::byte* data,
               Mapping private_mapping)
    : name_(resolved.name),
      region_(std::move(region)),
      offset_bytes_(resolved.offset_bytes),
      length_bytes_(resolved.length_bytes),
      access_(resolved.access),
      pages_(resolved.pages),
      cache_(resolved.cache),
      passthrough_(resolved.passthrough),
      mode_(resolved.mode),
      uid_(resolved.uid),
      gid_(resolved.gid),
      partition_(resolved.partition),
      data_(data),
      private_mapping_(std::move(private_mapping)) {
    region_->count_window(+1);
}

Window::~Window() {
    // A private mapping's locks go with it; the region's view stays.
    region_->unlock_range(locked_start_, locked_end_);
    region_->count_window(-1);
}

int Window::lock_pages() noexcept {
    const std::size_t page = page_size();
    const auto first = reinterpret_cast<std::uintptr_t>(data_);
    const std::uintptr_t start = first / page * page;
    const std::uintptr_t end = (first + length_bytes() + page - 1) / page * page;
    // ONFAULT: pages a copy window copies on write later are locked as they
    // come, instead of copying every page up front.
    if (!shares_region_mapping())
        return ::mlock2(reinterpret_cast<void*>(start), end - start, MLOCK_ONFAULT) == 0 ? 0 : errno;
    if (locked_start_ != locked_end_) return 0;
    if (const int error = region_->lock_range(start, end); error != 0) return error;
    locked_start_ = start;
    locked_end_ = end;
    return 0;
}

int Window::resize(std::uint64_t length_bytes) noexcept {
    std::lock_guard lock(resize_mutex_);
    if (length_bytes == this->length_bytes()) return 0;
    // A read window shows bytes it may not change, its size included
    // (as opening it for writing is refused, root included).
    if (access_ == Access::read) return EACCES;
    // Another window of the region (one a reload added, or one a handle keeps
    // after a reload) would lose bytes under it.
    if (access_ == Access::copy || region_->growable_to() == 0 || region_->window_count() != 1) return EINVAL;
    if (const int error = region_->resize(length_bytes); error != 0) return error;
    length_bytes_.store(length_bytes, std::memory_order_release);
    return 0;
}

int Window::sync() const noexcept {
    // Only write windows of files have anything to write back.
    if (access_ != Access::write || region_->anon() || length_bytes() == 0) return 0;
    const Mapping& view = region_->view(Access::write);
    const int error = view.sync(static_cast<std::size_t>(offset_bytes_ - view.file_offset()), length_bytes());
    if (error == 0) return 0;
    region_->writeback_errors().record(error);
    counters.errors.fetch_add(1, std::memory_order_relaxed);
    log_sync_error(error);
    return error;
}

void Window::log_sync_error(int error) const noexcept {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t last = sync_error_logged_at_ns_.load(std::memory_order_relaxed);
    const bool due = last == 0 || now - last >= std::int64_t{1'000'000'000};
    if (!due || !sync_error_logged_at_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
        sync_errors_unlogged_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const std::uint64_t unlogged = sync_errors_unlogged_.exchange(0, std::memory_order_relaxed);
    // Pages whose writeback failed are clean again in the kernel: only the
    // writer's next sync hears of it, so the administrator must hear now.
    log::error("window '{}': writing back to {} failed: {}{}", name_, region_->path(), std::strerror(error),
               unlogged == 0 ? std::string() : fmt::format(" ({} more failed syncs since the last message)", unlogged));
}

bool Window::shows(const ResolvedWindow& resolved, const FileIdentity& file) const noexcept {
    return name_ == resolved.name && region_->identity() == file && offset_bytes_ == resolved.offset_bytes &&
           length_bytes() == resolved.length_bytes && access_ == resolved.access && pages_ == resolved.pages &&
           partition_ == resolved.partition;
}

void Window::apply_settings(const ResolvedWindow& resolved) noexcept {
    mode_.store(resolved.mode, std::memory_order_relaxed);
    uid_.store(resolved.uid, std::memory_order_relaxed);
    gid_.store(resolved.gid, std::memory_order_relaxed);
    // A cto window's kept pages are not trusted across a change of mode.
    if (cache_.exchange(resolved.cache, std::memory_order_relaxed) != resolved.cache) mark_cache_stale();
    passthrough_.store(resolved.passthrough, std::memory_order_relaxed);
}

Window::PassthroughFit Window::passthrough_fit() const noexcept {
    if (access_ == Access::copy) return PassthroughFit::copy_access;
    if (offset_bytes_ != 0) return PassthroughFit::offset;
    if (region_->anon()) {
        if (length_bytes() != region_->size_bytes()) return PassthroughFit::not_whole_region;
        // Writes the kernel serves itself never reach mapfs, which could not
        // drop other windows' cached copies of those bytes.
        if (access_ == Access::write && region_->window_count() != 1) return PassthroughFit::region_shared;
        return region_->sealable() ? PassthroughFit::fits : PassthroughFit::not_sealable;
    }
    struct stat info {};
    if (::fstat(region_->fd(), &info) != 0 || !S_ISREG(info.st_mode)) return PassthroughFit::not_regular_file;
    if (access_ != Access::read) return PassthroughFit::writable_file;
    if (static_cast<std::uint64_t>(info.st_size) != length_bytes()) return PassthroughFit::not_whole_file;
    return PassthroughFit::fits;
}

bool Window::BackingState::operator==(const BackingState& other) const noexcept {
    return size == other.size && mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec &&
           ctime.tv_sec == other.ctime.tv_sec && ctime.tv_nsec == other.ctime.tv_nsec;
}

bool Window::cache_valid_at_open() noexcept {
    struct stat info {};
    BackingState now;
    if (::fstat(region_->fd(), &info) == 0) now = {info.st_size, info.st_mtim, info.st_ctim};
    std::lock_guard lock(open_state_mutex_);
    // Cleared before the comparison: a write that marks the window after
    // this point is for the next open to see.
    const bool written = cache_stale_.exchange(false, std::memory_order_acq_rel);
    const bool unchanged = now.size >= 0 && now == state_at_last_open_;
    state_at_last_open_ = now;
    return unchanged && !written;
}

// The backing file's next data (SEEK_DATA) or hole (SEEK_HOLE) at or after
// window byte `position`, in window bytes; the window's length when there
// is none before its end.
Result<std::uint64_t> Window::file_seek(std::uint64_t position, int whence) const noexcept {
    const std::uint64_t length = length_bytes();
    if (position >= length) return length;
    const off_t found = ::lseek(region_->fd(), static_cast<off_t>(offset_bytes_ + position), whence);
    if (found < 0) return errno == ENXIO ? Result<std::uint64_t>(length) : unexpected(errno);
    return std::min(static_cast<std::uint64_t>(found) - offset_bytes_, length);
}

// In whole blocks of the window, as block file systems answer: a block
// holding any data byte is data. The backing file's own blocks need not
// line up with the window's (a window at offset 4097), and tools that read
// block status (qemu-img rounds to 512 bytes) would otherwise skip the
// first bytes of an extent.
Result<std::uint64_t> Window::seek(std::uint64_t position, int whence) const noexcept {
    const std::uint64_t length = length_bytes();
    if (position >= length) return unexpected(ENXIO);
    if (access_ == Access::copy || region_->anon()) return whence == SEEK_DATA ? position : length;
    const auto block_start = [](std::uint64_t at) { return at / seek_block_bytes * seek_block_bytes; };
    if (whence == SEEK_DATA) {
        const auto data = file_seek(position, SEEK_DATA);
        if (!data) return data;
        if (*data >= length) return unexpected(ENXIO);
        return std::max(position, block_start(*data));
    }
    // A hole begins at the first block with no data byte in it. Each hole of
    // the file costs two lseeks of it; one too short to empty a block of the
    // window (a window that does not line up with the file's blocks, over
    // data and holes that alternate) would cost two per block, so after
    // `max_short_holes` of them the rest counts as data: the end of the
    // window, where lseek always finds a hole.
    std::uint64_t short_holes = 0;
    for (std::uint64_t at = position; at < length && short_holes < max_short_holes; ++short_holes) {
        const auto hole = file_seek(at, SEEK_HOLE);
        if (!hole) return hole;
        if (*hole >= length) return length;
        const std::uint64_t block = block_start(*hole);
        const auto data = file_seek(block, SEEK_DATA);
        if (!data) return data;
        if (*data >= std::min(length, block + seek_block_bytes)) return std::max(position, block);
        at = block + seek_block_bytes;  // this block holds data
    }
    return length;
}

int Window::discard(std::uint64_t offset, std::uint64_t length, bool punch) const noexcept {
    if (access_ == Access::copy) return guarded_zero(data_ + offset, length);
    const auto file_offset = static_cast<off_t>(offset_bytes_ + offset);
    const auto bytes = static_cast<off_t>(length);
    const int fd = region_->fd();
    if (!punch && ::fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, file_offset, bytes) == 0) return 0;
    // Zeroing where the file system cannot (tmpfs and memfds) is punching.
    if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, file_offset, bytes) == 0) return 0;
    if (punch || errno != EOPNOTSUPP) return errno;
    // Neither: zero the bytes through the mapping.
    return guarded_zero(data_ + offset, length);
}

}  // namespace mapfs
