// A window: a named view (offset, length, access) of one region, one file in
// the mount. It serves from its region's shared mapping or, for `copy`, from
// a private mapping of its own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "config/access.hpp"
#include "mapping/mapping.hpp"
#include "config/plan.hpp"
#include "mapping/region.hpp"

namespace mapfs {

class Window {
public:
    // `data` is the address of the window's first byte: inside
    // `region->view(access)` or, for `copy`, inside `private_mapping`.
    Window(const ResolvedWindow& resolved, std::shared_ptr<const Region> region,
           std::byte* data, Mapping private_mapping);

    const std::string& name() const noexcept { return name_; }
    const Region& region() const noexcept { return *region_; }
    const std::shared_ptr<const Region>& shared_region() const noexcept { return region_; }
    std::uint64_t offset_bytes() const noexcept { return offset_bytes_; }
    std::uint64_t length_bytes() const noexcept { return length_bytes_; }
    Access access() const noexcept { return access_; }
    CacheMode cache() const noexcept { return cache_; }
    PageMode pages() const noexcept { return pages_; }
    mode_t mode() const noexcept { return mode_; }
    uid_t uid() const noexcept { return uid_; }
    gid_t gid() const noexcept { return gid_; }

    // The window's bytes, exactly [offset, offset + length) of the region.
    std::span<std::byte> bytes() const noexcept { return {data_, length_bytes_}; }

    // Writes through this window reach the region's shared mapping.
    bool shares_region_mapping() const noexcept { return access_ != Access::copy; }

    // msync(MS_SYNC) of the window's pages when they belong to a file; 0 or
    // errno. An error is recorded in the region's writeback errors.
    int sync() const noexcept;

    // Whether this window is what `resolved` (on `file`) describes: a reload
    // keeps such a window, with its mappings, locks and counters.
    bool same_as(const ResolvedWindow& resolved, const FileIdentity& file) const noexcept;

    // Open file handles, for the status report.
    std::atomic<std::uint32_t> open_handles{0};

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

    // The mapping that holds this window's bytes, for status reports.
    const Mapping& mapping() const noexcept {
        return access_ == Access::copy ? private_mapping_ : region_->view(access_);
    }

private:
    std::string name_;
    std::shared_ptr<const Region> region_;
    std::uint64_t offset_bytes_;
    std::uint64_t length_bytes_;
    Access access_;
    CacheMode cache_;
    PageMode pages_;
    mode_t mode_;
    uid_t uid_;
    gid_t gid_;
    std::byte* data_;
    Mapping private_mapping_;
};

}  // namespace mapfs
