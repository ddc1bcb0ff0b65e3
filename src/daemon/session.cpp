#include "daemon/session.hpp"

#include <fcntl.h>
#include <signal.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "config/mount_options.hpp"
#include "base/mount_table.hpp"
#include "transport/session_transport.hpp"
#include "daemon/stopper.hpp"
#include "takeover/supervisor.hpp"
#include "takeover/unit_job.hpp"
#include "mapping/mapping.hpp"
#include "daemon/signals.hpp"
#include "mapping/pages.hpp"
#include "base/unique_fd.hpp"

namespace mapfs {

namespace {

using SessionPointer = std::unique_ptr<fuse_session, decltype(&fuse_session_destroy)>;

SessionPointer new_session(const fuse_lowlevel_ops& operations, void* userdata, const SessionSettings& settings) {
    std::string options = kernel_mount_options(settings.options);
    std::vector<std::string> arguments{"mapfs", "-o", options};
    if (settings.debug) arguments.emplace_back("-d");
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    SessionPointer session(fuse_session_new(&args, &operations, sizeof operations, userdata), fuse_session_destroy);
    fuse_opt_free_args(&args);
    return session;
}

// Mounts with a session that serves nothing: libfuse knows how to mount (as
// root with mount(2), otherwise through fusermount3); the connection it
// opens is then served by another session, through mapfs's own I/O hooks
// (session_io.hpp). A copy of the descriptor, or an invalid one.
UniqueFd mount_connection(const SessionSettings& settings) {
    static const fuse_lowlevel_ops no_operations{};
    SessionPointer mounter = new_session(no_operations, nullptr, settings);
    if (!mounter || fuse_session_mount(mounter.get(), settings.mountpoint.c_str()) != 0) return UniqueFd();
    return UniqueFd(::fcntl(fuse_session_fd(mounter.get()), F_DUPFD_CLOEXEC, 3));
}

// libfuse opens /dev/fuse itself and, when it cannot, says only "failed to
// open /dev/fuse: Permission denied". Asked first, mapfs can say what to do.
std::string fuse_device_problem() {
    const UniqueFd device(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (device.valid()) return "";
    const int error = errno;
    std::string message = std::string("cannot open /dev/fuse: ") + std::strerror(error);
    if (error == ENOENT || error == ENODEV || error == ENXIO)
        return message + ". The FUSE module is not loaded: modprobe fuse (as root)";
    if (error == EACCES || error == EPERM)
        return message + ". mapfs needs read and write access to /dev/fuse: run it as root, add this user to the "
                         "group that owns /dev/fuse, or give access with a udev rule (KERNEL==\"fuse\", MODE=\"0666\"); "
                         "in a container, pass the device in (systemd-nspawn --bind=/dev/fuse, docker run --device "
                         "/dev/fuse) and allow it (DeviceAllow=/dev/fuse rw)";
    return message;
}

// Under systemd a restart starts with the same SIGTERM as a stop; after a
// restart the next server takes the mount over, so it must stay.
bool restart_pending(const Filesystem& filesystem) {
    if (filesystem.serving.keeper != Keeper::systemd) return false;
    return unit_intent(own_unit(), "") == UnitIntent::restart;
}

// Takes the signals until the session is to end.
void control(SignalEvents& signals, Reloader& reloader, Stopper& stopper, const Filesystem& filesystem,
             bool can_hand_over) {
    while (true) {
        switch (signals.wait()) {
            case SignalEvents::Event::reload:
                reloader.request();
                break;
            case SignalEvents::Event::handover:
                if (!can_hand_over) {
                    log::warn("SIGUSR1: nothing keeps the mount for a new server (-o nosupervisor?); ignored");
                    break;
                }
                stopper.on_handover();
                return;
            case SignalEvents::Event::stop:
                if (can_hand_over && restart_pending(filesystem)) {
                    log::info("systemd restarts the service: the mount stays for the next server");
                    stopper.on_handover();
                } else {
                    stopper.on_signal();
                }
                return;
            case SignalEvents::Event::transport_ended:
                stopper.on_transport_ended();
                return;
        }
    }
}

// FUSE_NOTIFY_RESEND (Linux 6.9): the kernel queues again every request a
// server read and did not answer. Sent before any worker reads, it moves
// only what the previous server left; on a fresh mount it moves nothing
// and tells whether the kernel knows it.
bool send_resend(int fd) {
    constexpr std::int32_t notify_resend = 7;  // Debian 12's headers predate it
    const fuse_out_header header{sizeof header, notify_resend, 0};
    return ::write(fd, &header, sizeof header) == static_cast<ssize_t>(sizeof header);
}

// The connection to serve: the one handed down, or a new mount.
UniqueFd open_connection(const SessionSettings& settings, Handover& handover) {
    if (handover.has_connection()) return handover.take_connection();
    if (const std::string problem = fuse_device_problem(); !problem.empty()) {
        log::error("{}", problem);
        return UniqueFd();
    }
    UniqueFd connection = mount_connection(settings);
    if (!connection.valid()) log::error("cannot mount on {} (see the message above)", settings.mountpoint);
    return connection;
}

// What fuse_daemonize does, for a server whose supervisor went to the
// background already (no fork: the supervisor waits for this pid).
void go_to_background(const SessionSettings& settings) {
    if (settings.foreground) return;
    log::to_syslog_in_background();
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
        if (null > 2) ::close(null);
    }
    [[maybe_unused]] const int moved = ::chdir("/");
}

TransportSettings transport_settings(const SessionSettings& settings, const Filesystem& filesystem, bool storing,
                                     bool taking_over) {
    TransportSettings transport;
    transport.workers = settings.single_thread ? 1 : DevFuseWorkers::default_workers();
    // Without RESEND a request read from the kept descriptor by a server
    // that died would wait forever; read from a clone, it fails when the
    // clone closes with the process.
    transport.clone_descriptors = storing && !filesystem.serving.resend;
    transport.want_io_uring = settings.want_io_uring && !taking_over;
    // A replayed INIT's reply goes nowhere; a connection handed down before
    // its INIT came gets this server's.
    transport.want_passthrough = Passthrough::privileged();
    transport.why_not_io_uring = settings.why_not_io_uring;
    return transport;
}

}  // namespace

int run_session(Filesystem& filesystem, ServiceNotifier& service, Reloader& reloader, const SessionSettings& settings,
                Handover& handover) {
    // Before mounting, so that a SIGTERM from now on stops cleanly; a
    // SIGHUP that comes before the mount is up waits and reloads then.
    SignalEvents signals;
    if (!signals.valid()) {
        log::error("cannot create the signal pipe");
        return 1;
    }
    const bool taking_over = handover.has_connection();
    UniqueFd connection = open_connection(settings, handover);
    if (!connection.valid()) return 1;
    const fuse_lowlevel_ops& operations = filesystem_operations(ServiceNotifier::watchdog_requested());
    SessionPointer session = new_session(operations, &filesystem, settings);
    // RESEND is sent before any worker reads: it moves only what a previous
    // server left (see send_resend), and its answer decides the workers'
    // descriptors.
    filesystem.serving.resend = send_resend(connection.get());
    SessionTransport transport(filesystem, transport_settings(settings, filesystem, handover.storing(), taking_over));
    if (!session || transport.install(session.get(), connection.get()) != 0) {
        log::error("cannot create the FUSE session (see the message above)");
        if (!taking_over) detach_mount(settings.mountpoint);
        return 1;
    }
    // The session closes it when destroyed.
    const int session_fd = connection.release();
    filesystem.passthrough.serve_connection(session_fd);
    // The first server's INIT reply set passthrough up or not, and this
    // server will not see it (the replayed INIT's reply goes nowhere).
    if (taking_over) filesystem.passthrough.probe_inherited_connection();
    if (handover.storing()) {
        transport.io().on_init_request = [&handover](std::span<const std::byte> request) { handover.remember_init(request); };
        if (taking_over && handover.takes_over()) transport.io().replay_init(handover.init_request());
        handover.publish(*filesystem.current_registry(), filesystem.mountpoint);
        handover.store_connection(session_fd);
    }
    if (taking_over) {
        log::info("took over the mount on {} (takeover {}){}", filesystem.mountpoint, filesystem.serving.takeovers,
                  filesystem.serving.resend ? ": the kernel sends again what the previous server had not answered"
                                            : ": this kernel cannot send again what the previous server had not answered "
                                              "(FUSE_NOTIFY_RESEND, Linux 6.9)");
    } else if (!filesystem.serving.resend && handover.storing()) {
        log::info("this kernel has no FUSE_NOTIFY_RESEND (Linux 6.9): after a crash, requests in progress fail instead "
                  "of being served again");
    }
    const std::string device = device_of_new_mount(settings.mountpoint);
    filesystem.after_init = [device] { raise_readahead(device, 1024); };
    if (!taking_over) log::info("mounted {}", status_line(filesystem));
    if (settings.supervised || taking_over) {
        go_to_background(settings);
    } else {
        fuse_daemonize(settings.foreground ? 1 : 0);
        if (!settings.foreground) {
            log::to_syslog_in_background();
            lock_pages_after_fork(filesystem.current_registry()->windows());
        }
    }
    // Threads only now: fuse_daemonize forks, and a child has only the
    // thread that forked.
    filesystem.kernel.start(session.get());
    if (!settings.changes.empty()) {
        log::info("the configuration changed since the previous server: {} names, {} listings, {} attributes and {} "
                  "windows' cached pages to drop",
                  settings.changes.names.size(), settings.changes.listings.size(), settings.changes.attributes.size(),
                  settings.changes.pages.size());
        // libfuse sends a notification only once it has seen INIT (the
        // replayed one): queued from there, not waited for, since one may
        // need a page lock that a request the previous server left holds
        // until this server answers it.
        filesystem.on_ready = [&filesystem, &settings, ready = std::move(filesystem.on_ready)] {
            if (ready) ready();
            filesystem.kernel.tell(settings.changes);
        };
    }
    reloader.start();
    Stopper stopper(filesystem, reloader, transport, service);
    std::thread controller([&] { control(signals, reloader, stopper, filesystem, handover.storing()); });
    const int served = transport.serve();
    signals.post(SignalEvents::Event::transport_ended);
    controller.join();
    // Whether the mount goes to another server or away, the backing ids
    // stay the connection's: the next server adopts those its handles name.
    filesystem.passthrough.keep_ids();
    stopper.finish();
    if (stopper.handed_over()) return filesystem.serving.keeper == Keeper::supervisor ? exit_handover : 0;
    return served < 0 ? 1 : 0;
}

}  // namespace mapfs
