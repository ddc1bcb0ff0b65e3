// The server: reads the configuration, maps it, mounts (or takes over a
// mount another server left) and serves until stopped.
#pragma once

#include "config/command_line.hpp"

namespace mapfs {

// Returns the exit status: 0 after a clean stop, 1 when the system failed,
// 2 for a bad configuration, exit_handover after handing the mount over.
int run_server(const CommandLine& command_line);

}  // namespace mapfs
