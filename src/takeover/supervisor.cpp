#include "takeover/supervisor.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>

#include "base/log.hpp"
#include "base/mount_table.hpp"
#include "takeover/notify_listener.hpp"

extern char** environ;

namespace mapfs {
namespace {

using Clock = std::chrono::steady_clock;
// More takeovers than this in the window is a crash loop (a request that
// kills every server it is sent to): give the mount up.
constexpr std::size_t takeover_limit = 20;
constexpr auto takeover_window = std::chrono::seconds(60);
constexpr const char* supervisor_variable = "MAPFS_SUPERVISOR_PID";
// Set for a supervisor that became the installed binary (an upgrade):
// "foreground" or "background", and its stored descriptors as
// "name=fd:name=fd".
constexpr const char* resume_variable = "MAPFS_SUPERVISOR_RESUME";
constexpr const char* resume_store_variable = "MAPFS_SUPERVISOR_STORE";

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

std::string describe_exit(int status) {
    if (WIFSIGNALED(status)) return std::string("killed by ") + ::strsignal(WTERMSIG(status));
    return "exited with status " + std::to_string(decode_status(status));
}

std::string read_link(const char* path) {
    char buffer[4096];
    const ssize_t length = ::readlink(path, buffer, sizeof buffer - 1);
    return length > 0 ? std::string(buffer, static_cast<std::size_t>(length)) : "";
}

void detach_stdio() {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    if (null > 2) ::close(null);
}

// A supervisor that an upgrade made run the installed binary: what the
// one before it passed on.
struct Resumed {
    bool background = false;
    std::map<std::string, UniqueFd> store;
};

std::optional<Resumed> resumed_supervisor() {
    const char* mode = std::getenv(resume_variable);
    if (mode == nullptr) return std::nullopt;
    Resumed resumed;
    resumed.background = std::string_view(mode) == "background";
    const std::string list = std::getenv(resume_store_variable) != nullptr ? std::getenv(resume_store_variable) : "";
    for (std::size_t start = 0; start < list.size();) {
        const std::size_t end = std::min(list.find(':', start), list.size());
        const std::string entry = list.substr(start, end - start);
        const std::size_t equals = entry.find('=');
        if (equals != std::string::npos) {
            const int fd = std::atoi(entry.c_str() + equals + 1);
            if (fd > 2 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) resumed.store[entry.substr(0, equals)] = UniqueFd(fd);
        }
        start = end + 1;
    }
    ::unsetenv(resume_variable);
    ::unsetenv(resume_store_variable);
    return resumed;
}

class Supervisor {
public:
    Supervisor(char** argv, std::function<void(int)> settled) : settled_(std::move(settled)) {
        for (char** argument = argv; *argument != nullptr; ++argument) arguments_.emplace_back(*argument);
        // The path, not the file: an upgrade runs what is installed there then.
        binary_ = read_link("/proc/self/exe");
        // Held open rather than named: a user may be started in a
        // directory whose parents it cannot search (root's home), and
        // fchdir needs only the directory's own permission.
        start_directory_.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    }

    int run();
    // Carries on from the supervisor this process was before it became
    // the installed binary: its descriptors, and a mount that served.
    void set_background(bool background) noexcept { background_ = background; }
    void resume(Resumed resumed) {
        store_ = std::move(resumed.store);
        background_ = resumed.background;
        ever_ready_ = true;
        settled_ = nullptr;
    }

private:
    bool set_up();
    bool spawn();
    void take(NotifyMessage message);
    std::optional<int> on_signal(const signalfd_siginfo& info);
    std::optional<int> on_server_exit(int status);
    bool within_crash_limit();
    void detach_dead_mount();
    void give_up(const std::string& why);
    void settle(int status);
    std::vector<std::string> server_environment() const;
    void become_installed_binary();

    std::function<void(int)> settled_;
    std::vector<std::string> arguments_;
    std::string binary_;
    UniqueFd start_directory_;  // where mapfs was started: servers start there
    NotifyListener listener_;
    UniqueFd signals_;
    sigset_t original_mask_{};
    std::map<std::string, UniqueFd> store_;
    pid_t server_ = -1;
    bool ready_ = false;           // the current server said READY=1
    bool ever_ready_ = false;
    bool stopping_ = false;        // the server said STOPPING=1: it stops for good
    bool stop_requested_ = false;  // SIGTERM or SIGINT came here
    bool background_ = false;      // went to the background (not -f)
    // What the server said it mounts on (mountpoint_field): the stored state
    // may be gone, or never stored (a mount served over io_uring).
    std::string mountpoint_;
    std::deque<Clock::time_point> takeovers_;
};

bool Supervisor::set_up() {
    if (binary_.empty()) {
        log::error("supervisor: cannot tell which binary runs (/proc/self/exe)");
        return false;
    }
    if (!listener_.open()) {
        log::error("supervisor: cannot open its notify socket: {}", std::strerror(errno));
        return false;
    }
    sigset_t handled;
    sigemptyset(&handled);
    for (const int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&handled, signal);
    ::sigprocmask(SIG_BLOCK, &handled, &original_mask_);
    // Servers get them unblocked, also when this process inherited them
    // blocked from the supervisor it was before an upgrade.
    for (const int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigdelset(&original_mask_, signal);
    signals_.reset(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_.valid()) log::error("supervisor: cannot create a signalfd: {}", std::strerror(errno));
    return signals_.valid();
}

int Supervisor::run() {
    if (!set_up() || !spawn()) {
        settle(1);
        return 1;
    }
    while (true) {
        pollfd waiting[2] = {{listener_.fd(), POLLIN, 0}, {signals_.get(), POLLIN, 0}};
        if (::poll(waiting, 2, -1) < 0 && errno != EINTR) return 1;
        while (auto message = listener_.receive()) take(std::move(*message));
        signalfd_siginfo info{};
        while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
            if (const auto status = on_signal(info)) {
                settle(*status);
                return *status;
            }
        }
    }
}

std::vector<std::string> Supervisor::server_environment() const {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view setting = *entry;
        if (setting.rfind("NOTIFY_SOCKET=", 0) == 0 || setting.rfind("LISTEN_", 0) == 0 ||
            setting.rfind(supervisor_variable, 0) == 0)
            continue;
        environment.emplace_back(setting);
    }
    environment.push_back("NOTIFY_SOCKET=" + listener_.address());
    environment.push_back(std::string(supervisor_variable) + "=" + std::to_string(::getpid()));
    if (!store_.empty()) {
        std::string names;
        for (const auto& [name, fd] : store_) names += (names.empty() ? "" : ":") + name;
        environment.push_back("LISTEN_FDS=" + std::to_string(store_.size()));
        environment.push_back("LISTEN_FDNAMES=" + names);
    }
    return environment;
}

// The stored descriptors become 3, 4, ... of the new server, in the order
// of LISTEN_FDNAMES, as systemd passes them.
bool Supervisor::spawn() {
    std::vector<std::string> environment = server_environment();
    std::vector<char*> envp;
    for (std::string& setting : environment) envp.push_back(setting.data());
    envp.push_back(nullptr);  // LISTEN_PID goes in this slot in the child
    envp.push_back(nullptr);
    char listen_pid[32] = "LISTEN_PID=";
    std::vector<char*> argv;
    for (std::string& argument : arguments_) argv.push_back(argument.data());
    argv.push_back(nullptr);
    std::vector<int> stored;
    for (const auto& [name, fd] : store_) stored.push_back(fd.get());
    const pid_t child = ::fork();
    if (child < 0) {
        log::error("supervisor: cannot start a server: {}", std::strerror(errno));
        return false;
    }
    if (child == 0) {
        ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
        // Before the descriptors move: one may land on this one's number.
        if (start_directory_.valid() && ::fchdir(start_directory_.get()) != 0) {
            const std::string message = std::string("mapfs: supervisor: cannot start a server in the directory mapfs was started in: ") +
                                        std::strerror(errno) + "\n";
            [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, message.data(), message.size());
            ::_exit(1);
        }
        const int count = static_cast<int>(stored.size());
        std::vector<int> moved(stored.size());
        for (int i = 0; i < count; ++i) moved[i] = ::fcntl(stored[i], F_DUPFD_CLOEXEC, 3 + count);
        for (int i = 0; i < count; ++i) ::dup2(moved[i], 3 + i);  // without O_CLOEXEC: inherited
        ::close_range(3 + count, ~0U, CLOSE_RANGE_CLOEXEC);
        if (count > 0) {
            std::snprintf(listen_pid + 11, sizeof listen_pid - 11, "%d", static_cast<int>(::getpid()));
            envp[envp.size() - 2] = listen_pid;
        }
        ::execve(binary_.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    server_ = child;
    ready_ = false;
    stopping_ = false;
    return true;
}

void Supervisor::take(NotifyMessage message) {
    // Anyone may write to an abstract socket; only the server is heard.
    if (message.sender != server_ || server_ <= 0) return;
    if (message.says("READY")) {
        ready_ = true;
        if (!ever_ready_) settle(0);
        ever_ready_ = true;
    }
    if (message.says("STOPPING")) stopping_ = true;
    if (const auto mountpoint = message.fields.find(mountpoint_field); mountpoint != message.fields.end())
        mountpoint_ = mountpoint->second;
    const auto name = message.fields.find("FDNAME");
    const std::string stored_as = name != message.fields.end() ? name->second : "stored";
    if (message.says("FDSTOREREMOVE")) store_.erase(stored_as);
    if (message.says("FDSTORE") && message.descriptors.size() == 1) store_[stored_as] = std::move(message.descriptors[0]);
}

std::optional<int> Supervisor::on_signal(const signalfd_siginfo& info) {
    switch (info.ssi_signo) {
        case SIGCHLD: {
            int status = 0;
            while (true) {
                const pid_t done = ::waitpid(-1, &status, WNOHANG);
                if (done <= 0) return std::nullopt;
                // Messages it sent before it died count.
                while (auto message = listener_.receive()) take(std::move(*message));
                if (done == server_) return on_server_exit(status);
            }
        }
        case SIGTERM:
        case SIGINT:
            stop_requested_ = true;
            ::kill(server_, SIGTERM);
            return std::nullopt;
        case SIGHUP:
            ::kill(server_, SIGHUP);
            return std::nullopt;
        case SIGUSR1:
            log::info("upgrade: the server (pid {}) hands the mount over to {}", server_, binary_);
            ::kill(server_, SIGUSR1);
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

std::optional<int> Supervisor::on_server_exit(int status) {
    const pid_t dead = std::exchange(server_, -1);
    if (stop_requested_ || stopping_) return decode_status(status);
    if (!ever_ready_) {
        // It never served: it said why on stderr. A mount it made is dead.
        give_up("");
        return decode_status(status);
    }
    if (store_.count("fuse") == 0) {
        // Nothing to take over (transport=uring keeps nothing: the kernel
        // resends no ring request): the mount is dead. It goes at once, and
        // a new server mounts again, as a service manager would restart it.
        log::error("supervisor: the server (pid {}) {} and nothing kept its connection (a mount served over io_uring "
                   "cannot be taken over): the mount on {} is detached and mounted again",
                   dead, describe_exit(status), mountpoint_);
        detach_dead_mount();
        if (!within_crash_limit()) return 1;
        if (spawn()) return std::nullopt;
        give_up("no new server could be started");
        return 1;
    }
    if (!ready_) {
        give_up("the server (pid " + std::to_string(dead) + ") that took the mount over " + describe_exit(status) + " before it served");
        return 1;
    }
    if (decode_status(status) == exit_handover && WIFEXITED(status)) {
        log::info("pid {} handed the mount over; starting {}", dead, binary_);
        // An upgrade: this process becomes the installed binary too, so
        // that nothing keeps running the replaced file; it starts the server.
        become_installed_binary();
    } else {
        log::warn("the server (pid {}) {}; a new server takes the mount over", dead, describe_exit(status));
        if (!within_crash_limit()) return 1;
    }
    if (spawn()) return std::nullopt;
    give_up("no new server could be started");
    return 1;
}

// exec of the binary at binary_, same pid (the shell or mount(8) that
// started mapfs still has its child), the stored descriptors passed by
// number. Returns only when the exec failed: this process goes on as it was.
void Supervisor::become_installed_binary() {
    std::string stored;
    for (const auto& [name, fd] : store_) {
        if (::fcntl(fd.get(), F_SETFD, 0) != 0) continue;
        stored += (stored.empty() ? "" : ":") + name + "=" + std::to_string(fd.get());
    }
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
    environment.push_back(std::string(resume_variable) + "=" + (background_ ? "background" : "foreground"));
    environment.push_back(std::string(resume_store_variable) + "=" + stored);
    std::vector<char*> envp;
    for (std::string& setting : environment) envp.push_back(setting.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (std::string& argument : arguments_) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    // The new process takes its working directory for the start directory.
    if (start_directory_.valid()) [[maybe_unused]] const int moved = ::fchdir(start_directory_.get());
    // The signals stay blocked across the exec: one that comes meanwhile
    // waits for the new process's signalfd instead of ending it.
    ::execve(binary_.c_str(), argv.data(), envp.data());
    log::error("supervisor: cannot become {}: {}; it goes on as it was", binary_, std::strerror(errno));
    for (const auto& [name, fd] : store_) ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
    if (background_) [[maybe_unused]] const int back = ::chdir("/");
}

// Counts a dead server; past the limit, the mount is given up.
bool Supervisor::within_crash_limit() {
    const auto now = Clock::now();
    while (!takeovers_.empty() && now - takeovers_.front() > takeover_window) takeovers_.pop_front();
    if (takeovers_.size() >= takeover_limit) {
        give_up(std::to_string(takeover_limit + 1) + " servers died within " + std::to_string(takeover_window.count()) + " s");
        return false;
    }
    takeovers_.push_back(now);
    return true;
}

void Supervisor::detach_dead_mount() {
    if (mountpoint_.empty()) return;
    const std::vector<MountEntry> mounts = mounts_at(mountpoint_);
    if (!mounts.empty() && mounts.back().type == "fuse.mapfs" && dead_fuse_mount(mountpoint_)) detach_mount(mountpoint_);
}

// Closing the stored connection ends it: clients get ENOTCONN instead of
// waiting for a server that will not come. The dead mount is detached.
void Supervisor::give_up(const std::string& why) {
    store_.clear();
    if (!why.empty()) log::error("supervisor: {}; giving the mount on {} up", why, mountpoint_.empty() ? "(unknown)" : mountpoint_);
    detach_dead_mount();
}

void Supervisor::settle(int status) {
    if (!settled_) return;
    std::function<void(int)> call = std::move(settled_);
    settled_ = nullptr;
    call(status);
}

}  // namespace

bool supervision_wanted(const CommandLine& command_line) {
    if (std::getenv("NOTIFY_SOCKET") != nullptr || std::getenv(supervisor_variable) != nullptr) return false;
    for (const std::string& list : command_line.option_lists) {
        for (std::size_t start = 0; start <= list.size();) {
            const std::size_t comma = std::min(list.find(',', start), list.size());
            if (list.compare(start, comma - start, "nosupervisor") == 0 && comma - start == 12) return false;
            start = comma + 1;
        }
    }
    return true;
}

pid_t supervisor_of_this_server() {
    const char* value = std::getenv(supervisor_variable);
    const pid_t pid = value != nullptr ? static_cast<pid_t>(std::strtol(value, nullptr, 10)) : 0;
    ::unsetenv(supervisor_variable);
    // Only the parent that started this process: a stray variable is not a supervisor.
    return pid > 0 && pid == ::getppid() && std::getenv("NOTIFY_SOCKET") != nullptr ? pid : 0;
}

int run_supervisor(char** argv, bool foreground) {
    if (std::optional<Resumed> resumed = resumed_supervisor()) {
        Supervisor supervisor(argv, nullptr);
        const bool background = resumed->background;
        supervisor.resume(std::move(*resumed));
        if (background) {
            log::to_syslog_in_background();
            [[maybe_unused]] const int moved = ::chdir("/");
        }
        log::info("supervisor (pid {}) now runs the installed binary", ::getpid());
        return supervisor.run();
    }
    std::function<void(int)> settled;
    if (!foreground) {
        // The starting process waits until the mount serves (or failed), so
        // that `mapfs ...; ls MOUNTPOINT` and mount(8) see it.
        int report[2];
        if (::pipe2(report, O_CLOEXEC) != 0) return 1;
        const pid_t child = ::fork();
        if (child < 0) return 1;
        if (child > 0) {
            ::close(report[1]);
            unsigned char status = 1;
            if (::read(report[0], &status, 1) != 1) {
                int ended = 0;
                ::waitpid(child, &ended, 0);
                return 1;
            }
            return status;
        }
        ::close(report[0]);
        ::setsid();
        settled = [fd = report[1]](int status) {
            const unsigned char byte = static_cast<unsigned char>(status);
            [[maybe_unused]] const ssize_t written = ::write(fd, &byte, 1);
            ::close(fd);
            detach_stdio();
            // New servers start in the directory mapfs was started in.
            [[maybe_unused]] const int moved = ::chdir("/");
            log::to_syslog_in_background();
        };
    }
    Supervisor supervisor(argv, std::move(settled));
    supervisor.set_background(!foreground);
    return supervisor.run();
}

}  // namespace mapfs
