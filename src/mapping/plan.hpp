// A checked configuration: backing files opened, sizes known, every window's
// byte range resolved. Nothing is mapped or mounted yet.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/access.hpp"
#include "config/config.hpp"
#include "mapping/partition_table.hpp"
#include "base/unique_fd.hpp"

namespace mapfs {

struct OpenedRegion {
    std::string name;
    std::string path;  // canonical path of the backing file; empty when anonymous
    UniqueFd fd;       // the backing file, or a memfd for anonymous memory
    std::uint64_t size_bytes = 0;
    // For anonymous memory: the size the configuration asks for (a window
    // may have resized the region since, see Window::resize).
    std::uint64_t configured_size_bytes = 0;
    bool anon = false;
    bool writable = false;  // fd is open for writing
};

struct ResolvedWindow {
    std::string name;
    std::size_t region_index = 0;
    std::uint64_t offset_bytes = 0;
    std::uint64_t length_bytes = 0;
    Access access = Access::read;
    CacheMode cache = CacheMode::automatic;
    PageMode pages = PageMode::lazy;
    PassthroughChoice passthrough = PassthroughChoice::automatic;
    mode_t mode = 0444;
    uid_t uid = 0;
    gid_t gid = 0;
    std::optional<PartitionLabel> partition;  // a window made from a partition table
};

struct Plan {
    std::string mountpoint;  // absolute
    MountOptions options;
    std::vector<OpenedRegion> regions;
    std::vector<ResolvedWindow> windows;
};

// Largest anonymous region accepted: far below the 128 TiB user address space
// so that the mapping cannot fail for lack of room.
inline constexpr std::uint64_t max_anon_region_bytes = std::uint64_t{64} << 40;

// Anonymous memory of the running configuration, offered to a reload: a
// region of the same name and configured size keeps it (what was written to
// it, and the size a resize gave it).
struct KeptMemory {
    std::string name;
    int fd = -1;  // the memfd; make_plan duplicates it
    std::uint64_t configured_size_bytes = 0;
};

// What a reload brings to planning, beyond the new configuration.
struct Replanning {
    // Anonymous memory of the running configuration.
    std::span<const KeptMemory> kept;
    // The mount point in use: taken as it is, never looked at again (a
    // stat of it would be a request to this very mount).
    std::string mounted_on;
};

std::optional<Plan> make_plan(Config config, ConfigErrors& errors, const Replanning& replanning = {});

}  // namespace mapfs
