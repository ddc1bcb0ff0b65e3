// Logging through spdlog, with libfuse's own messages routed into it.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace mapfs::log {

using spdlog::critical;
using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

// Logs at `level` ("info", "debug", ...; `debug` forces debug) to the
// journal when systemd connected stderr to it, otherwise to stderr; a
// daemon that will go to the background (not `foreground`) shows only
// errors on stderr and logs everything to syslog.
void setup(const std::string& level, bool debug, bool foreground);

// In the background stderr is /dev/null: log to syslog from then on, as
// sshfs and other FUSE daemons do (unless stderr is the journal).
void to_syslog_in_background();

}  // namespace mapfs::log
