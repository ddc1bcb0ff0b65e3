// mapfs upgrade --all: after a package upgrade replaced the binary, moves
// every mount served outside systemd (by hand, mount(8), fstab) to the
// installed file. Its supervisor is told to hand over (SIGUSR1); it becomes
// the installed binary itself and starts a new server, which takes the
// mount over. Found through /proc, so mounts of every user are moved,
// also those root may not look into (FUSE keeps root out of a mount made
// without allow_other). Under systemd, `systemctl restart mapfs@NAME` does
// the same (the package's postinst runs both).
#pragma once

namespace mapfs {

// Exit status: 0 when every such mount moved (or there was none), 1 when
// one did not within 60 s.
int run_upgrade_all();

}  // namespace mapfs
