// The mount point as the kernel sees it: what is mounted there (from
// mountinfo, never by a stat that a dead or busy FUSE mount could hang),
// detaching what a killed daemon left, and the readahead of our own mount.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mapfs {

struct MountEntry {
    std::string device;  // "0:52", the mount's st_dev as major:minor
    std::string type;    // "fuse.mapfs"
    std::string source;  // what mount(8) shows as the source
};

// The mounts on `path`, bottom first, from /proc/self/mountinfo.
std::vector<MountEntry> mounts_at(const std::string& path);

// Detaches the mount at `path` if it is the dead mount of a killed FUSE
// daemon ("Transport endpoint is not connected"); true if it did.
bool detach_stale_mount(const std::string& path);

// Raises the readahead of the mapfs mount just made on `mountpoint` (the
// topmost fuse.mapfs mount there, never one below it). Needs root.
void raise_readahead(const std::string& mountpoint, unsigned kilobytes);

}  // namespace mapfs
