// -o options: the ones mapfs reads, the ones the kernel mount takes, and the
// generic ones mount(8) passes that mean nothing to a FUSE daemon.
#pragma once

#include <string>

#include "config/config.hpp"

namespace mapfs {

// Applies a comma-separated -o list to `options`.
void apply_mount_options(const std::string& list, const std::string& where,
                         MountOptions& options, ConfigErrors& errors);

// The -o list handed to libfuse for the kernel mount.
std::string kernel_mount_options(const MountOptions& options);

}  // namespace mapfs
