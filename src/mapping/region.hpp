// A mapped thing: a backing file or anonymous memory, with the MAP_SHARED
// mappings its windows serve from: one PROT_READ view for all `read`
// windows, one PROT_READ|PROT_WRITE view for all `write` windows. Both show
// the same page cache pages, so they are coherent, and a bug in the daemon
// cannot write through a read window.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "mapping/mapping.hpp"
#include "mapping/plan.hpp"
#include "base/unique_fd.hpp"
#include "base/window_math.hpp"
#include "mapping/writeback_errors.hpp"

namespace mapfs {

// Which file a region maps (device and inode; a memfd has its own): the same
// bytes across registries, so that writes through a window of a replaced
// registry still reach the caches of today's windows, and back.
struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    auto operator<=>(const FileIdentity&) const = default;
};

class Region {
public:
    // Each extent is the file range covering every window of that access
    // (none when the region has no such window).
    // `growable_to`: for anonymous memory that one window shows whole, the
    // size it may grow to; the view is mapped that long from the start, so
    // that a resize is an ftruncate of the memfd and never moves a byte.
    static Result<std::shared_ptr<Region>> create(OpenedRegion opened, std::optional<PageSpan> read_extent,
                                                  std::optional<PageSpan> write_extent,
                                                  std::uint64_t growable_to = 0) noexcept;

    const std::string& name() const noexcept { return name_; }
    const std::string& path() const noexcept { return path_; }
    bool anon() const noexcept { return anon_; }
    std::uint64_t size_bytes() const noexcept { return size_bytes_.load(std::memory_order_acquire); }
    std::uint64_t configured_size_bytes() const noexcept { return configured_size_bytes_; }
    // The size a resize may give it; 0 when it cannot change.
    std::uint64_t growable_to() const noexcept { return growable_to_; }
    // Sets the size of anonymous memory (ftruncate of the memfd): bytes below
    // the smaller size stay, above it read as zeros. 0 or errno (EBUSY once
    // the size is sealed).
    int resize(std::uint64_t size_bytes) const noexcept;

    // FUSE passthrough of anonymous memory: the kernel ignores a window's
    // size and lets a client's write grow the file it passes through to,
    // so the memfd is sealed against growing and shrinking before its
    // first passed-through open. A seal is never taken back (and a client's
    // mapping of those pages may outlive every open): the region keeps its
    // size from then on. 0 or errno; sealing twice is a no-op.
    int seal_size() const noexcept;
    bool size_sealed() const noexcept { return size_sealed_.load(std::memory_order_acquire); }
    // Whether seal_size can work: the memfd was made sealable (an earlier
    // mapfs made them without MFD_ALLOW_SEALING, and a takeover keeps those).
    bool sealable() const noexcept;
    // The errno with which the kernel refused this file as a passthrough
    // backing file (ELOOP: on a stacked file system), 0 while it has not.
    mutable std::atomic<int> passthrough_refusal{0};
    // Windows that show this region (a window counts itself in and out).
    void count_window(int change) const noexcept { windows_.fetch_add(change, std::memory_order_acq_rel); }
    int window_count() const noexcept { return windows_.load(std::memory_order_acquire); }
    // The backing file or memfd, open as long as the region lives.
    int fd() const noexcept { return fd_.get(); }

    // Whether the backing file lives on a file system whose page cache
    // another host may change under it (NFS, CIFS, Ceph, 9p, a FUSE file
    // system such as GlusterFS's client): its pages are only as fresh as
    // its client's last look at the file.
    bool on_shared_file_system() const noexcept { return shared_file_system_; }
    // At a window's open, for such a file: has its client look at the file
    // again (an open of the path, as any reader's open would), so that what
    // another host wrote and fsync'd before this open replaces the pages
    // this host cached. A no-op for other files and anonymous memory.
    void revalidate() const noexcept;
    FileIdentity identity() const noexcept { return identity_; }
    // The shared view that `read` or `write` windows serve from.
    const Mapping& view(Access access) const noexcept {
        return access == Access::write ? write_view_ : read_view_;
    }

    // Address of file byte `file_offset` inside view(access).
    std::byte* view_address(Access access, std::uint64_t file_offset) const noexcept;

    // Whether the shared view for `access` covers file bytes [start, end).
    bool view_covers(Access access, std::uint64_t start, std::uint64_t end) const noexcept;

    // Writeback errors that syncs of this file have seen (see writeback_errors.hpp).
    WritebackErrors& writeback_errors() const noexcept { return writeback_errors_; }

    // msync(MS_SYNC) of everything written through write windows; 0 or errno.
    int sync_writes() const noexcept;

    // A copy-on-write mapping of `span`, private to one window.
    Result<Mapping> map_private(const PageSpan& span) const noexcept;

    // Memory locks of the shared views (pages = "lock"), counted per page
    // range: windows of one view may lock overlapping pages, and mlock does
    // not count, so pages are unlocked once no window that locked them is
    // left, whoever goes first. Addresses are page-aligned, inside a view.
    // lock_range: mlock2(MLOCK_ONFAULT); 0 or errno, nothing counted then.
    int lock_range(std::uintptr_t start, std::uintptr_t end) const noexcept;
    void unlock_range(std::uintptr_t start, std::uintptr_t end) const noexcept;
    // Bytes of [start, end) locked already.
    std::uint64_t locked_bytes_within(std::uintptr_t start, std::uintptr_t end) const noexcept;

    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    ~Region();

private:
    Region() = default;
    void advise_huge_pages() const noexcept;

    std::string name_;
    std::string path_;
    bool anon_ = false;
    mutable std::atomic<std::uint64_t> size_bytes_{0};
    std::uint64_t configured_size_bytes_ = 0;
    std::uint64_t growable_to_ = 0;
    mutable std::atomic<int> windows_{0};
    mutable std::atomic<bool> size_sealed_{false};
    UniqueFd fd_;
    FileIdentity identity_;
    bool shared_file_system_ = false;
    Mapping read_view_;
    Mapping write_view_;
    mutable WritebackErrors writeback_errors_;
    // How many windows locked each page: from each key to the next, the
    // count there (0 where there is no key before).
    mutable std::mutex locks_mutex_;
    mutable std::map<std::uintptr_t, unsigned> lock_counts_;
    void split_locks_at(std::uintptr_t at) const;
};

}  // namespace mapfs
