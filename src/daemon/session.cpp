#include "daemon/session.hpp"

#include <fuse_lowlevel.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "base/log.hpp"
#include "mapping/pages.hpp"

namespace mapfs {

std::string kernel_mount_options(const MountOptions& options) {
    // default_permissions: the kernel checks mode bits for everyone but
    // root; mapfs itself refuses writes to read windows, root included.
    std::string list = "subtype=mapfs,default_permissions";
    // libfuse splits -o at commas; a backslash keeps one inside the name.
    std::string fsname;
    for (const char c : options.fsname.empty() ? std::string("mapfs") : options.fsname) {
        if (c == ',' || c == '\\') fsname += '\\';
        fsname += c;
    }
    list += ",fsname=" + fsname;
    if (options.allow_other) list += ",allow_other";
    if (options.read_only) list += ",ro";
    for (const std::string& option : options.kernel_options) list += "," + option;
    return list;
}

bool detach_stale_mount(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 || errno != ENOTCONN) return false;
    if (::umount2(path.c_str(), MNT_DETACH) == 0) {
        log::warn("detached the stale mount on {}", path);
        return true;
    }
    // Not root: fusermount3 may detach mounts of our own user.
    const pid_t child = ::fork();
    if (child == 0) {
        ::execlp("fusermount3", "fusermount3", "-uz", path.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    const bool detached = child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (detached) log::warn("detached the stale mount on {}", path);
    else log::error("cannot detach the stale mount on {}", path);
    return detached;
}

namespace {

// The kernel gives a FUSE mount 128 KiB of readahead, which caps cached
// sequential reads far below the page cache's speed (measured: 0.05 x direct
// reads; with 1 MiB, 0.3 x). Root may raise it in sysfs; the mount's device
// number comes from mountinfo, since a stat would wait for the session loop.
void raise_readahead(const std::string& mountpoint, unsigned kilobytes) {
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line)) {
        std::istringstream fields(line);
        std::string id, parent, device, root, where;
        if (!(fields >> id >> parent >> device >> root >> where) || where != mountpoint) continue;
        std::ofstream setting("/sys/class/bdi/" + device + "/read_ahead_kb");
        setting << kilobytes << "\n";
        setting.flush();
        if (setting) log::debug("readahead of {} raised to {} KiB", mountpoint, kilobytes);
        else log::debug("cannot raise the readahead of {} (not root?)", mountpoint);
        return;
    }
}

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

int serve(fuse_session* session, const SessionSettings& settings) {
    if (settings.single_thread) return fuse_session_loop(session);
    std::unique_ptr<fuse_loop_config, decltype(&fuse_loop_cfg_destroy)> config(fuse_loop_cfg_create(),
                                                                               fuse_loop_cfg_destroy);
    fuse_loop_cfg_set_clone_fd(config.get(), 1);
    fuse_loop_cfg_set_idle_threads(config.get(), 16);
    return fuse_session_loop_mt(session, config.get());
}

}  // namespace

int run_session(Filesystem& filesystem, Reloader& reloader, const SessionSettings& settings) {
    ServiceNotifier& notifier = *filesystem.notifier;
    SessionPointer session = new_session(filesystem, settings);
    if (!session) {
        log::error("cannot create the FUSE session (see the message above)");
        return 1;
    }
    if (fuse_set_signal_handlers(session.get()) != 0) {
        log::error("cannot install signal handlers");
        return 1;
    }
    // libfuse ends the session on SIGHUP; for mapfs it means reload, which
    // the reloader takes over once mounted. Until then it is ignored.
    ::signal(SIGHUP, SIG_IGN);
    if (fuse_session_mount(session.get(), settings.mountpoint.c_str()) != 0) {
        log::error("cannot mount on {} (see the message above)", settings.mountpoint);
        fuse_remove_signal_handlers(session.get());
        return 1;
    }
    raise_readahead(settings.mountpoint, 1024);
    log::info("mounted {}", status_line(filesystem));
    fuse_daemonize(settings.foreground ? 1 : 0);
    if (!settings.foreground) {
        log::to_syslog_in_background();
        lock_pages_after_fork(*filesystem.current_registry());
    }
    filesystem.invalidator.start(session.get());
    reloader.start(session.get());
    const int served = serve(session.get(), settings);
    reloader.stop();
    notifier.stopping();
    notifier.stop_watchdog();
    filesystem.invalidator.stop();
    fuse_session_unmount(session.get());
    fuse_remove_signal_handlers(session.get());
    log::info("unmounted {}", settings.mountpoint);
    return served < 0 ? 1 : 0;
}

}  // namespace mapfs
