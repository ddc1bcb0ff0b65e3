// mapfs check [OPTIONS] SOURCE [MOUNTPOINT]: checks a configuration (the
// same arguments mapfs takes) as a start would, without mounting, mapping
// or writing anything. For admins before a reload or an upgrade, and for
// the package before it moves running mounts to a new binary.
#pragma once

namespace mapfs {

// Exit status 0 (with a one-line summary) or 2 with every problem.
int run_check_command(int argc, char** argv);

}  // namespace mapfs
