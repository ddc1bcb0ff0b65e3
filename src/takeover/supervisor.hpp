// The keeper of a mount started without a service manager (by hand, from
// fstab, by mount -t fuse.mapfs): a small process that starts the server,
// holds the descriptors the server stores (the FUSE connection, its state,
// anonymous memory) and, when the server dies, starts a new one that takes
// the mount over. It speaks systemd's notify protocol with the server
// (NOTIFY_SOCKET, FDSTORE=1, LISTEN_FDS), so the server does the same
// under systemd and under it. It does no FUSE work and touches no
// mapping: the faults that kill a server cannot kill it.
//
// SIGTERM and SIGINT stop the server (which unmounts), SIGHUP reloads it,
// SIGUSR1 upgrades it: the server hands the mount over at a request
// boundary and the binary mapfs was started from is run again.
#pragma once

#include <string>
#include <vector>

#include "base/exit_status.hpp"
#include "config/command_line.hpp"

namespace mapfs {

// Exit status of a server that handed the mount over (EX_TEMPFAIL).
inline constexpr int exit_handover = exit_status::handed_over;

// The field of a notify message in which a supervised server tells its
// supervisor the mount point (systemd ignores fields it does not know).
inline constexpr const char* mountpoint_field = "X_MAPFS_MOUNTPOINT";

// Whether this process should supervise: no service manager (NOTIFY_SOCKET)
// keeps the descriptors, it is not itself a supervised server, and the
// command line has no -o nosupervisor.
bool supervision_wanted(const CommandLine& command_line);

// The supervisor's pid when this process is a server it started, else 0.
// Takes the supervisor's variables out of the environment.
pid_t supervisor_of_this_server();

// Runs the supervisor: starts `argv` again as the server, goes to the
// background once it is ready (unless `foreground`), and returns the exit
// status for the process that started it.
int run_supervisor(char** argv, bool foreground);

}  // namespace mapfs
