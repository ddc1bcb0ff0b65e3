// A window: a named view (offset, length, access) of one region, one file in
// the mount. It serves from its region's shared mapping or, for `copy`, from
// a private mapping of its own.
#pragma once

#include <sys/types.h>

#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <cstdint>
#include <memory>
#include <span>
#include <optional>
#include <string>

#include "config/access.hpp"
#include "mapping/mapping.hpp"
#include "mapping/plan.hpp"
#include "mapping/region.hpp"

namespace mapfs {

class Window {
public:
    // `data` is the address of the window's first byte: inside
    // `region->view(access)` or, for `copy`, inside `private_mapping`.
    Window(const ResolvedWindow& resolved, std::shared_ptr<const Region> region,
           std::byte* data, Mapping private_mapping);
    ~Window();
    Window(const Window&) = delete;
    Window& operator=(const Window&) = delete;

    const std::string& name() const noexcept { return name_; }
    const Region& region() const noexcept { return *region_; }
    const std::shared_ptr<const Region>& shared_region() const noexcept { return region_; }
    std::uint64_t offset_bytes() const noexcept { return offset_bytes_; }
    std::uint64_t length_bytes() const noexcept { return length_bytes_.load(std::memory_order_acquire); }
    Access access() const noexcept { return access_; }
    PageMode pages() const noexcept { return pages_; }
    // What may change under the same window, as chmod changes a file
    // (apply_settings): read as they are now.
    CacheMode cache() const noexcept { return cache_.load(std::memory_order_relaxed); }
    mode_t mode() const noexcept { return mode_.load(std::memory_order_relaxed); }
    uid_t uid() const noexcept { return uid_.load(std::memory_order_relaxed); }
    gid_t gid() const noexcept { return gid_.load(std::memory_order_relaxed); }
    PassthroughChoice passthrough() const noexcept { return passthrough_.load(std::memory_order_relaxed); }
    // Set when the window is a partition found in a partition table.
    const std::optional<PartitionLabel>& partition() const noexcept { return partition_; }

    // The window's bytes, exactly [offset, offset + length) of the region.
    std::span<std::byte> bytes() const noexcept { return {data_, length_bytes()}; }

    // truncate/ftruncate to another size: the only window of anonymous
    // memory resizes it, like Python's mmap.resize(); any other window has
    // a fixed length (EINVAL). 0 or errno.
    int resize(std::uint64_t length_bytes) noexcept;

    // Writes through this window reach the region's shared mapping.
    bool shares_region_mapping() const noexcept { return access_ != Access::copy; }

    // msync(MS_SYNC) of the window's pages when they belong to a file; 0 or
    // errno. An error (ENOTCONN of a network file system that lost its
    // servers, EIO of a disk) is recorded in the region's writeback errors,
    // counted in the window's errors and logged with the window and file.
    int sync() const noexcept;

    // lseek(SEEK_DATA or SEEK_HOLE) from window byte `position`: the
    // backing file's holes, in whole `seek_block_bytes` blocks of the
    // window (a block with any data byte is data), clamped to the window;
    // an anonymous or copy window is one data extent. ENXIO past the data.
    static constexpr std::uint64_t seek_block_bytes = 4096;
    // SEEK_HOLE looks at this many holes too short to empty a block, then
    // answers the end of the window (the rest counts as data): at most
    // twice as many lseeks of the backing file per request.
    static constexpr std::uint64_t max_short_holes = 1024;
    Result<std::uint64_t> seek(std::uint64_t position, int whence) const noexcept;

    // Discards window bytes [offset, offset + length): deallocates them in
    // the backing file (`punch`) or zeroes them there, keeping the size;
    // a copy window zeroes its private pages. 0 or errno.
    int discard(std::uint64_t offset, std::uint64_t length, bool punch) const noexcept;

    // Whether this window shows what `resolved` (on `file`) describes, with
    // the same page mode: a reload keeps such a window, with its mappings,
    // locks, counters and private pages, and applies the rest of
    // `resolved` to it (apply_settings).
    bool shows(const ResolvedWindow& resolved, const FileIdentity& file) const noexcept;
    // Takes mode, owner and cache mode from `resolved`, as chmod, chown and
    // a cache change of a file: once a reload is certain to take effect.
    void apply_settings(const ResolvedWindow& resolved) noexcept;

    // Open file handles, for the status report.
    std::atomic<std::uint32_t> open_handles{0};

    // Whether what the window shows lets the kernel serve it itself (FUSE
    // passthrough), the connection and the configuration aside. The kernel
    // knows no offset and no size of a passed-through file, and lets a
    // client's write grow it: only a window that is exactly a whole file
    // (read) or a whole anonymous region (sealed, see Region::seal_size)
    // may be. Looks at the backing file's size now (it may have grown).
    enum class PassthroughFit {
        fits,
        copy_access,       // private pages the backing file does not have
        offset,            // not from byte 0 (a partition, say)
        writable_file,     // the kernel would let writes grow the file
        not_regular_file,  // a block device: the kernel takes regular files only
        not_whole_file,    // the file is longer or shorter than the window
        not_whole_region,  // the anonymous region is longer than the window
        region_shared,     // other windows of the region would keep stale cached pages
        not_sealable,      // anonymous memory an earlier mapfs made unsealable
    };
    PassthroughFit passthrough_fit() const noexcept;
    // Open files the kernel serves itself (for the status report), and
    // whether there ever was one: the counters then miss what it served.
    std::atomic<std::uint32_t> passthrough_handles{0};
    std::atomic<bool> served_by_kernel{false};
    // The log said once that new opens stopped being passed through.
    std::atomic<bool> passthrough_stop_told{false};

    // For the `cto` cache mode, at open: whether the kernel's pages cached
    // from earlier opens still show what this window shows (close-to-open,
    // as NFS gives it): the backing file has the same size, mtime and ctime
    // as at the last open, and nothing was written through mapfs into the
    // window's bytes since. Remembers this open's state for the next one.
    bool cache_valid_at_open() noexcept;
    // A write through mapfs changed some of the window's bytes.
    void mark_cache_stale() const noexcept { cache_stale_.store(true, std::memory_order_release); }

    // What .mapfs/status reports. Relaxed atomics: one uncontended add per
    // request, no ordering needed.
    struct Counters {
        std::atomic<std::uint64_t> reads{0};
        std::atomic<std::uint64_t> writes{0};
        std::atomic<std::uint64_t> bytes_read{0};
        std::atomic<std::uint64_t> bytes_written{0};
        std::atomic<std::uint64_t> errors{0};
    };
    mutable Counters counters;

    // pages = "lock": locks the window's pages where they are mapped (its
    // share of the region's view, counted there, or its private mapping),
    // until the window goes. 0 or errno.
    int lock_pages() noexcept;

    // The mapping that holds this window's bytes, for status reports.
    const Mapping& mapping() const noexcept {
        return access_ == Access::copy ? private_mapping_ : region_->view(access_);
    }

private:
    Result<std::uint64_t> file_seek(std::uint64_t position, int whence) const noexcept;

    std::string name_;
    std::shared_ptr<const Region> region_;
    std::uint64_t offset_bytes_;
    std::atomic<std::uint64_t> length_bytes_;
    std::mutex resize_mutex_;
    Access access_;
    PageMode pages_;
    std::atomic<CacheMode> cache_;
    std::atomic<PassthroughChoice> passthrough_;
    std::atomic<mode_t> mode_;
    std::atomic<uid_t> uid_;
    std::atomic<gid_t> gid_;
    std::optional<PartitionLabel> partition_;
    std::byte* data_;
    Mapping private_mapping_;
    // The page range lock_pages locked in the region's view (start == end:
    // none), let go of when the window goes.
    std::uintptr_t locked_start_ = 0;
    std::uintptr_t locked_end_ = 0;
    struct BackingState {
        off_t size = -1;
        timespec mtime{};
        timespec ctime{};
        bool operator==(const BackingState& other) const noexcept;
    };
    std::mutex open_state_mutex_;
    BackingState state_at_last_open_;
    mutable std::atomic<bool> cache_stale_{true};  // nothing is cached before the first open
    // Failed syncs logged at most once a second per window, the rest
    // counted into the next message (a writer that fsyncs in a loop).
    void log_sync_error(int error) const noexcept;
    mutable std::atomic<std::int64_t> sync_error_logged_at_ns_{0};
    mutable std::atomic<std::uint64_t> sync_errors_unlogged_{0};
};

}  // namespace mapfs
