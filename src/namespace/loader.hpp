// From a configuration to a mapped registry: the start-up pipeline, which
// every reload runs again.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "config/command_line.hpp"
#include "config/config.hpp"
#include "base/expected.hpp"
#include "config/plan.hpp"
#include "namespace/registry.hpp"

namespace mapfs {

struct Loaded {
    std::shared_ptr<const Registry> registry;
    std::string mountpoint;
    MountOptions options;
};

struct LoadFailure {
    int exit_status = 2;  // 2: the configuration is wrong; 1: the system failed
    std::string message;  // every problem, one per line
};

// The Config the command line describes, with its defaults filled in.
Expected<Config, LoadFailure> read_config(const CommandLine& command_line);

// Checks `config`, maps its regions and builds the registry, numbering its
// inodes from `first_inode`.
// `kept`: anonymous memory a reload offers to regions of the same name and size.
Expected<Loaded, LoadFailure> map_config(Config config, InodeNumber first_inode,
                                         std::span<const KeptMemory> kept = {});

}  // namespace mapfs
