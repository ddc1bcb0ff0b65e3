#include "daemon/session.hpp"

#include <fcntl.h>
#include <fuse_lowlevel.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "config/mount_options.hpp"
#include "daemon/mount_point.hpp"
#include "daemon/session_loop.hpp"
#include "daemon/stopper.hpp"
#include "daemon/signals.hpp"
#include "mapping/pages.hpp"
#include "mapping/unique_fd.hpp"

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

// Takes the signals until the session is to end.
void control(SignalEvents& signals, Reloader& reloader, Stopper& stopper) {
    while (true) {
        switch (signals.wait()) {
            case SignalEvents::Event::reload:
                reloader.request();
                break;
            case SignalEvents::Event::stop:
                stopper.on_signal();
                return;
            case SignalEvents::Event::loop_ended:
                stopper.on_loop_ended();
                return;
        }
    }
}

}  // namespace

int run_session(Filesystem& filesystem, ServiceNotifier& service, Reloader& reloader, const SessionSettings& settings) {
    if (const std::string problem = fuse_device_problem(); !problem.empty()) {
        log::error("{}", problem);
        return 1;
    }
    // Before mounting, so that a SIGTERM from now on stops cleanly; a
    // SIGHUP that comes before the mount is up waits and reloads then.
    SignalEvents signals;
    if (!signals.valid()) {
        log::error("cannot create the signal pipe");
        return 1;
    }
    UniqueFd connection = mount_connection(settings);
    if (!connection.valid()) {
        log::error("cannot mount on {} (see the message above)", settings.mountpoint);
        return 1;
    }
    const fuse_lowlevel_ops& operations = filesystem_operations(ServiceNotifier::watchdog_requested());
    SessionPointer session = new_session(operations, &filesystem, settings);
    if (!session || filesystem.io.install(session.get(), connection.get()) != 0) {
        log::error("cannot create the FUSE session (see the message above)");
        detach_mount(settings.mountpoint);
        return 1;
    }
    // The session closes it when destroyed.
    const int session_fd = connection.release();
    const std::string device = device_of_new_mount(settings.mountpoint);
    filesystem.after_init = [device] { raise_readahead(device, 1024); };
    log::info("mounted {}", status_line(filesystem));
    fuse_daemonize(settings.foreground ? 1 : 0);
    if (!settings.foreground) {
        log::to_syslog_in_background();
        lock_pages_after_fork(filesystem.current_registry()->windows());
    }
    // Threads only now: fuse_daemonize forks, and a child has only the
    // thread that forked.
    filesystem.kernel.start(session.get());
    reloader.start();
    const LoopSettings loop_settings{settings.single_thread ? 1 : SessionLoop::default_workers(), false};
    SessionLoop loop(session.get(), session_fd, loop_settings);
    Stopper stopper(filesystem, reloader, loop, session.get(), service);
    std::thread controller([&] { control(signals, reloader, stopper); });
    const int served = loop.run();
    signals.post(SignalEvents::Event::loop_ended);
    controller.join();
    stopper.finish();
    return served < 0 ? 1 : 0;
}

}  // namespace mapfs
