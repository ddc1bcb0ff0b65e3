// Parsed configuration: what the user asked for, before any file is opened.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/access.hpp"
#include "config/config_error.hpp"
#include "config/partition_label.hpp"

namespace mapfs {

struct RegionConfig {
    std::string name;
    std::string where;  // "file.toml:12" or "argument -w '...'"
    std::optional<std::string> file;
    bool anon = false;
    std::optional<std::uint64_t> size_bytes;
};

struct WindowConfig {
    std::string name;
    std::string where;
    std::string region;
    std::uint64_t offset_bytes = 0;
    std::optional<std::uint64_t> length_bytes;  // none: to the end of the region
    std::optional<Access> access;               // none: write when the file allows it
    std::optional<mode_t> mode;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::optional<CacheMode> cache;
    std::optional<PageMode> pages;
    std::optional<PassthroughChoice> passthrough;
    // A directory of one window per partition found in the window's bytes.
    bool partitions = false;
    // Set on the windows made from a partition table.
    std::optional<PartitionLabel> partition;
};

struct MountOptions {
    CacheMode cache = CacheMode::automatic;
    bool allow_other = false;
    bool read_only = false;
    std::string log_level = "info";
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    std::optional<mode_t> umask;
    std::string fsname;
    // Mount over a live mount already on the mount point, instead of
    // refusing (a dead FUSE mount is always detached first).
    bool overmount = false;
    // x-mount.mkdir (util-linux's name): create a missing mount point,
    // with its parents, before mounting.
    bool make_mountpoint = false;
    TransportChoice transport = TransportChoice::automatic;
    PassthroughChoice passthrough = PassthroughChoice::automatic;
    // -o max_read=N: the largest read the kernel sends (it takes at least
    // 4 KiB); INIT must say the same to libfuse.
    std::optional<std::uint32_t> max_read;
    StatusAccess status = StatusAccess::owner;
    // Options handed to the kernel mount as they are (nosuid, noexec, ...).
    std::vector<std::string> kernel_options;
};

struct Config {
    // The TOML text this configuration was read from ("" when SOURCE is not
    // a configuration file): what a server keeps as the last good one.
    std::string source_text;
    std::optional<std::string> mountpoint;
    std::string mountpoint_where;
    MountOptions options;
    std::vector<RegionConfig> regions;
    std::vector<WindowConfig> windows;
};

}  // namespace mapfs
