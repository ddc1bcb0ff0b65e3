// `mapfs status DIR [--json]`: the .mapfs/status report of a mount, as a
// table for people or as the JSON itself.
#pragma once

namespace mapfs {

int run_status_command(int argc, const char* const* argv);

}  // namespace mapfs
