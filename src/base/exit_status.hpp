// mapfs's exit statuses, as mapfs(8) lists them. The unit restarts the
// server only after 1 (and after a signal): the others a restart cannot
// mend.
#pragma once

namespace mapfs::exit_status {

inline constexpr int stopped = 0;            // a clean stop: unmounted, SIGTERM, SIGINT
inline constexpr int system_failed = 1;      // the system failed at start-up in a way that may pass
inline constexpr int bad_configuration = 2;  // arguments or configuration: the text must change
// The machine refuses what a valid configuration asks (more memory than it
// has, a locking limit, a file it cannot map): it must change first.
inline constexpr int cannot_serve = 3;
inline constexpr int handed_over = 75;       // EX_TEMPFAIL: a supervised server handed the mount over

}  // namespace mapfs::exit_status
