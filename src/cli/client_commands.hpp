// Commands that act on a running mount from outside the daemon, for people
// and for the service's ExecReload= and ExecStopPost=:
//
//   mapfs reload CONFIG.toml|MOUNTPOINT [--pid PID]
//     SIGHUP to the daemon, then waits for the outcome in its status
//     report: exit 0 when the new configuration took effect, 1 with the
//     reasons on stderr when it was rejected.
//   mapfs cleanup CONFIG.toml|MOUNTPOINT [--unit UNIT]
//     detaches the dead mount a killed daemon left there, if any; with
//     --unit (ExecStopPost=), detaches the unit's mount when the unit
//     stops and keeps it when systemd starts it again.
//   mapfs upgrade CONFIG.toml|MOUNTPOINT
//     has the supervisor hand the mount to a new server running the
//     installed binary, and waits until it serves.
//   mapfs upgrade --all
//     the same for every mount outside systemd whose mapfs runs a binary
//     that has been replaced since (upgrade_all.hpp).
#pragma once

namespace mapfs {

int run_reload_command(int argc, const char* const* argv);
int run_cleanup_command(int argc, const char* const* argv);
int run_upgrade_command(int argc, const char* const* argv);

}  // namespace mapfs
