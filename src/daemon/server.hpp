// The server: reads the configuration, maps it, mounts (or takes over a
// mount another server left) and serves until stopped.
#pragma once

#include <string>
#include <vector>

#include "config/command_line.hpp"

namespace mapfs {

// Returns the exit status: 0 after a clean stop, 1 when the system failed,
// 2 for a bad configuration, exit_handover after handing the mount over.
// `arguments`: the command line as given, for the status report.
int run_server(const CommandLine& command_line, std::vector<std::string> arguments);

}  // namespace mapfs
