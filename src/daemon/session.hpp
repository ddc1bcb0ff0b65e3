// Mounting, serving and unmounting: the FUSE session's life.
#pragma once

#include <string>

#include "config/config.hpp"
#include "fuse/filesystem.hpp"
#include "daemon/reloader.hpp"

namespace mapfs {

struct SessionSettings {
    std::string mountpoint;
    MountOptions options;
    bool foreground = false;
    bool debug = false;
    bool single_thread = false;
};

// Detaches the mount at `path` if it is the dead mount of a killed FUSE
// daemon ("Transport endpoint is not connected"); true if it did.
bool detach_stale_mount(const std::string& path);

// The -o list handed to libfuse for the kernel mount.
std::string kernel_mount_options(const MountOptions& options);

// Mounts, serves until unmounted or signalled, unmounts; tells systemd
// STOPPING=1 when the loop ends (READY=1 comes from the FUSE init). Returns
// the exit status: 0 after a clean stop, 1 when mounting failed.
int run_session(Filesystem& filesystem, Reloader& reloader, const SessionSettings& settings);

}  // namespace mapfs
