// Mounting, serving and unmounting: the FUSE session's life, and the order
// in which the daemon stops.
#pragma once

#include <string>

#include "config/config.hpp"
#include "takeover/handover.hpp"
#include "daemon/reloader.hpp"
#include "daemon/service_notifier.hpp"
#include "fuse/filesystem.hpp"

namespace mapfs {

struct SessionSettings {
    std::string mountpoint;
    MountOptions options;
    bool foreground = false;
    bool debug = false;
    bool single_thread = false;
    bool supervised = false;  // started by mapfs's supervisor, which went to the background
    bool want_io_uring = false;
    std::string why_not_io_uring;  // for the log, when not wanted
    // What a takeover found changed in the configuration, for the kernel.
    NamespaceChanges changes;
};

// Mounts (or takes over the connection `handover` holds), serves until
// unmounted or signalled (SIGHUP reloads, SIGUSR1 hands over), unmounts
// unless handing over; tells systemd STOPPING=1 when it stops (READY=1
// comes from the FUSE init). Returns the exit status: 0 after a clean stop,
// 1 when mounting failed, exit_handover after handing the mount over to a
// supervisor's next server.
int run_session(Filesystem& filesystem, ServiceNotifier& service, Reloader& reloader,
                const SessionSettings& settings, Handover& handover);

}  // namespace mapfs
