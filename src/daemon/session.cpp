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
#include "daemon/signals.hpp"
#include "mapping/pages.hpp"
#include "mapping/unique_fd.hpp"

namespace mapfs {

namespace {

using Clock = std::chrono::steady_clock;
using SessionPointer = std::unique_ptr<fuse_session, decltype(&fuse_session_destroy)>;

SessionPointer new_session(Filesystem& filesystem, const SessionSettings& settings) {
    std::string options = kernel_mount_options(settings.options);
    std::vector<std::string> arguments{"mapfs", "-o", options};
    if (settings.debug) arguments.emplace_back("-d");
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    const fuse_lowlevel_ops& operations = filesystem_operations(ServiceNotifier::watchdog_requested());
    SessionPointer session(fuse_session_new(&args, &operations, sizeof operations, &filesystem), fuse_session_destroy);
    fuse_opt_free_args(&args);
    return session;
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

bool wait_until(const SessionLoop& loop, Clock::time_point deadline) {
    while (!loop.finished() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return loop.finished();
}

// The order of a stop. The threads that may wait on the kernel (a reload, a
// notification waiting for a page lock) can need the session loop to answer
// a request before they can finish, so they are stopped first, while the
// loop still serves, each with a deadline; then the loop. If anything is
// still stuck after that, mapfs unmounts and exits without waiting for it:
// the process's end closes /dev/fuse, which ends whatever it waits for.
// Stores through write windows are in the page cache and reach the file
// without mapfs.
class Stopper {
public:
    Stopper(Filesystem& filesystem, Reloader& reloader, SessionLoop& loop, fuse_session* session)
        : filesystem_(filesystem), reloader_(reloader), loop_(loop), session_(session) {}

    // SIGTERM or SIGINT.
    void on_signal() {
        const bool helpers_done = stop_helpers();
        loop_.stop();
        if (wait_until(loop_, Clock::now() + std::chrono::seconds(3)) && helpers_done) return;
        leave_now();
    }

    // The loop ended by itself: unmounted by someone, or the connection was lost.
    void on_loop_ended() {
        if (!stop_helpers()) leave_now();
    }

private:
    bool stop_helpers() {
        const bool reload_done = reloader_.stop(Clock::now() + std::chrono::seconds(3));
        const bool notifications_done = filesystem_.kernel.stop(Clock::now() + std::chrono::seconds(2));
        return reload_done && notifications_done;
    }

    [[noreturn]] void leave_now() {
        log::warn("a thread is stuck waiting on the kernel; unmounting {} and exiting without it", filesystem_.mountpoint);
        fuse_session_unmount(session_);
        std::_Exit(0);
    }

    Filesystem& filesystem_;
    Reloader& reloader_;
    SessionLoop& loop_;
    fuse_session* session_;
};

// Takes the signals until the session is to end.
void control(SignalEvents& signals, Reloader& reloader, Stopper& stopper, ServiceNotifier& service) {
    while (true) {
        switch (signals.wait()) {
            case SignalEvents::Event::reload:
                reloader.request();
                break;
            case SignalEvents::Event::stop:
                service.stopping();
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
    SessionPointer session = new_session(filesystem, settings);
    if (!session) {
        log::error("cannot create the FUSE session (see the message above)");
        return 1;
    }
    // Before mounting, so that a SIGTERM from now on stops cleanly; a
    // SIGHUP that comes before the mount is up waits and reloads then.
    SignalEvents signals;
    if (!signals.valid()) {
        log::error("cannot create the signal pipe");
        return 1;
    }
    if (fuse_session_mount(session.get(), settings.mountpoint.c_str()) != 0) {
        log::error("cannot mount on {} (see the message above)", settings.mountpoint);
        return 1;
    }
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
    SessionLoop loop(session.get(), settings.single_thread);
    Stopper stopper(filesystem, reloader, loop, session.get());
    std::thread controller([&] { control(signals, reloader, stopper, service); });
    const int served = loop.run();
    signals.post(SignalEvents::Event::loop_ended);
    controller.join();
    service.stopping();
    service.stop_watchdog();
    fuse_session_unmount(session.get());
    log::info("unmounted {}", settings.mountpoint);
    return served < 0 ? 1 : 0;
}

}  // namespace mapfs
