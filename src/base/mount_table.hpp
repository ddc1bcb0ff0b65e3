// The mount point as the kernel sees it: what is mounted there (from
// mountinfo, never by a stat that a dead or busy FUSE mount could hang),
// detaching what a killed daemon left, and the readahead of our own mount.
#pragma once

#include <optional>
#include <chrono>
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

// Where mounts of `type` whose source is `source` are mounted.
std::vector<std::string> mount_points_of(const std::string& type, const std::string& source);

// What the FUSE mount on `path` does when asked for attributes the kernel
// must fetch (cached ones outlive the daemon): answer, fail with ENOTCONN
// or ECONNABORTED (its daemon and every holder of its connection are gone),
// or nothing within `timeout` (its connection is held, by a stopped daemon
// or for a server that will take it over). Asked from a child process, which is
// killed when it waits too long.
enum class FuseMountState { answers, dead, hung };
FuseMountState probe_fuse_mount(const std::string& path, std::chrono::milliseconds timeout);
bool dead_fuse_mount(const std::string& path);

// Detaches the mount on `path` (umount -l as root, fusermount3 -uz
// otherwise); true if it did.
bool detach_mount(const std::string& path);

// Makes `path` ready to mount on: detaches the dead mount a killed FUSE
// daemon left there ("Transport endpoint is not connected"), refuses a live
// mount of any kind unless `overmount`, and warns when the directory is not
// empty. Returns "" or the message that refuses it.
std::string prepare_mount_point(const std::string& path, bool overmount);

// Creates `path` and its missing parents, mode 0755 whatever the umask
// (x-mount.mkdir). Returns "" or why it could not.
std::string create_mount_point(const std::string& path);

// The device ("0:52") of the mapfs mount just made on `mountpoint`: the
// topmost fuse.mapfs mount there, never one below it; "" if none.
std::string device_of_new_mount(const std::string& mountpoint);

// Sets the readahead of the mount with that device. Needs root, and must
// come after the FUSE INIT reply, which lowers it to what INIT offered.
void raise_readahead(const std::string& device, unsigned kilobytes);

}  // namespace mapfs
