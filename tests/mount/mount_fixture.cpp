#include "mount_fixture.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "mapfs/status_report.hpp"

namespace mapfs::testing {

namespace {

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Variables through which a service manager or a container talks to the
// processes it starts (systemd-nspawn sets NOTIFY_SOCKET, a unit sets
// LISTEN_FDS...): a test that inherited them would start a daemon that
// behaves as if it ran under that manager. Taken out of this process's
// environment before any test runs, so that no daemon, client command or
// shell a test starts sees them; a test that wants one sets it for its
// daemon (MountedMapfs's `environment`).
const bool service_environment_cleared = [] {
    for (const char* name : {"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PID", "WATCHDOG_USEC",
                             "WATCHDOG_PID", "JOURNAL_STREAM", "INVOCATION_ID", "MAPFS_FD_STORE", "MAPFS_SUPERVISOR_PID"})
        ::unsetenv(name);
    return true;
}();

}  // namespace

std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

CommandResult run(const std::string& command, const std::filesystem::path& directory) {
    const std::string full = (directory.empty() ? "" : "cd " + quote(directory.string()) + " && ") + "(" + command + ") 2>&1";
    FILE* pipe = ::popen(("bash -c " + quote(full)).c_str(), "r");
    CommandResult result;
    if (pipe == nullptr) return result;
    std::array<char, 4096> buffer{};
    std::size_t count = 0;
    while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), count);
    result.status = decode_status(::pclose(pipe));
    return result;
}

std::string sha256_of_range(const std::filesystem::path& file, std::uint64_t offset, std::uint64_t length) {
    const auto result = run("dd if=" + quote(file.string()) + " iflag=skip_bytes,count_bytes bs=1M skip=" +
                            std::to_string(offset) + " count=" + std::to_string(length) +
                            " status=none | sha256sum | cut -d' ' -f1");
    return result.output;
}

std::string mapfs_binary() {
    const char* path = std::getenv("MAPFS_BINARY");
    return path != nullptr ? path : "mapfs";
}

std::string mapfs_binary_for_anyone(const TempDir& dir) {
    const std::filesystem::path copy = dir / "mapfs-for-anyone";
    std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                 std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                                 std::filesystem::perms::others_exec);
    if (!std::filesystem::exists(copy)) std::filesystem::copy_file(mapfs_binary(), copy);
    std::filesystem::permissions(copy, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                           std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                           std::filesystem::perms::others_exec);
    return copy.string();
}

// The FUSE mounts on `mountpoint`, as mount IDs.
std::set<std::string> fuse_mount_ids(const std::filesystem::path& mountpoint) {
    std::set<std::string> ids;
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, where, field, type;
        if (!(fields >> id >> parent >> device >> root >> where) || where != mountpoint.string()) continue;
        while (fields >> field && field != "-") {}
        if (fields >> type && type.rfind("fuse", 0) == 0) ids.insert(id);
    }
    return ids;
}

bool is_mounted(const std::filesystem::path& mountpoint) {
    std::ifstream mounts("/proc/self/mounts");
    std::string device, where, type, rest;
    while (mounts >> device >> where >> type && std::getline(mounts, rest)) {
        if (where == mountpoint.string() && type.rfind("fuse", 0) == 0) return true;
    }
    return false;
}

std::string forced_transport() {
    const char* transport = std::getenv("MAPFS_TEST_TRANSPORT");
    return transport != nullptr ? transport : "";
}

bool passthrough_pass() {
    const char* choice = std::getenv("MAPFS_TEST_PASSTHROUGH");
    return choice != nullptr && std::string(choice) == "auto";
}

std::string passthrough_precondition_missing() {
    utsname names{};
    unsigned major = 0, minor = 0;
    if (::uname(&names) != 0 || std::sscanf(names.release, "%u.%u", &major, &minor) != 2)
        return "cannot read the kernel's version";
    if (major < 6 || (major == 6 && minor < 9))
        return std::string("Linux ") + names.release + " has no FUSE passthrough (6.9 or later)";
    std::ifstream status("/proc/self/status");
    bool admin = false;
    for (std::string line; std::getline(status, line);)
        if (line.rfind("CapEff:", 0) == 0) admin = ((std::stoull(line.substr(7), nullptr, 16) >> 21) & 1) != 0;
    if (!admin) return "FUSE passthrough needs CAP_SYS_ADMIN (run the tests as root)";
    std::ifstream uid_map("/proc/self/uid_map");
    std::string inside, outside, count;
    if (!(uid_map >> inside >> outside >> count) || count != "4294967295")
        return "FUSE passthrough needs CAP_SYS_ADMIN in the initial user namespace, and this is another";
    return "";
}

void require_passthrough() {
    if (const std::string missing = passthrough_precondition_missing(); !missing.empty()) GTEST_SKIP() << missing;
    const std::string because = passthrough_unavailable_because();
    ASSERT_TRUE(because.empty()) << "this machine can pass files through (Linux 6.9+, CAP_SYS_ADMIN), mapfs does not: "
                                 << because;
}

std::string passthrough_unavailable_because() {
    static const std::string because = [] () -> std::string {
        TempDir probe_dir;
        const auto file = probe_dir.write_file("probe", "probe");
        const std::filesystem::path point = probe_dir / "mnt";
        std::filesystem::create_directory(point);
        MountedMapfs probe({"-o", "passthrough=auto", "-w", "probe:file=" + file.string() + ",access=read", point.string()},
                           point, probe_dir / "mapfs.log");
        if (!probe.live()) return "a probe mount did not come up: " + probe.log();
        std::string error;
        const auto report = read_status_report(point.string(), error);
        if (!report) return "the probe mount's status report: " + error;
        return report->passthrough_available ? "" : "no FUSE passthrough here: " + report->passthrough_unavailable_because;
    }();
    return because;
}

MountedMapfs::MountedMapfs(const std::vector<std::string>& arguments, std::filesystem::path mountpoint,
                           std::filesystem::path log_file, const std::vector<std::string>& environment,
                           const std::vector<std::string>& wrapper)
    : mountpoint_(std::move(mountpoint)), log_file_(std::move(log_file)) {
    // What was there before must not pass for ours: a live mount (the new
    // one goes over it) or a dead one (the new one replaces it, maybe
    // under the same mount ID, so IDs cannot tell them apart). A mount is
    // ours once there are more mounts that answer than before.
    // FORCE_SYNC: a dead mount's root attributes are still in the kernel's cache.
    struct statx info {};
    const auto answering = [&] {
        const bool answers = ::statx(AT_FDCWD, mountpoint_.c_str(), AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &info) == 0;
        return answers ? fuse_mount_ids(mountpoint_).size() : 0;
    };
    const std::size_t earlier_mounts = answering();
    std::vector<std::string> argv_strings = wrapper;
    argv_strings.push_back(mapfs_binary());
    argv_strings.push_back("-f");
    argv_strings.insert(argv_strings.end(), arguments.begin(), arguments.end());
    // The whole suite again over FUSE's io_uring transport (.ci/run).
    const bool names_transport = std::any_of(arguments.begin(), arguments.end(), [](const std::string& argument) {
        return argument.find("transport=") != std::string::npos;
    });
    if (!forced_transport().empty() && !names_transport)
        argv_strings.insert(argv_strings.end(), {"-o", "transport=" + forced_transport()});
    const bool names_passthrough = std::any_of(arguments.begin(), arguments.end(), [](const std::string& argument) {
        return argument.find("passthrough=") != std::string::npos;
    });
    // MAPFS_TEST_PASSTHROUGH=leave: nothing added, for a binary older than
    // the option (to show that a test fails on it).
    const char* choice = std::getenv("MAPFS_TEST_PASSTHROUGH");
    const bool leave = choice != nullptr && std::string(choice) == "leave";
    if (!names_passthrough && !leave)
        argv_strings.insert(argv_strings.end(), {"-o", passthrough_pass() ? "passthrough=auto" : "passthrough=off"});
    pid_ = ::fork();
    if (pid_ == 0) {
        const int log = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(log, STDOUT_FILENO);
        ::dup2(log, STDERR_FILENO);
        for (const std::string& setting : environment) ::putenv(const_cast<char*>(setting.c_str()));
        std::vector<char*> argv;
        for (std::string& argument : argv_strings) argv.push_back(argument.data());
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_status_ = decode_status(status);
            pid_ = -1;
            return;
        }
        if (answering() > earlier_mounts) {
            live_ = true;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

MountedMapfs::~MountedMapfs() { cleanup(); }

pid_t MountedMapfs::server_pid_of(const std::filesystem::path& mountpoint) {
    std::ifstream report(mountpoint / ".mapfs" / "status");
    const std::string key = "\"pid\": ";
    for (std::string line; std::getline(report, line);) {
        const std::size_t at = line.find(key);
        if (at != std::string::npos) return static_cast<pid_t>(std::stol(line.substr(at + key.size())));
    }
    return -1;
}

std::string MountedMapfs::log() const {
    std::ifstream in(log_file_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int MountedMapfs::wait_for_exit(int timeout_ms) {
    if (pid_ < 0) return exit_status_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exit_status_ = decode_status(status);
            pid_ = -1;
            live_ = false;
            return exit_status_;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

int MountedMapfs::unmount() {
    if (is_mounted(mountpoint_)) run("fusermount3 -u " + quote(mountpoint_.string()));
    const int status = wait_for_exit(10000);
    // Unmounted and ended: a mount on that point from now on is another's
    // (a test that mounts again), not this object's to clean up.
    if (status >= 0 && !mountpoint_.empty() && !is_mounted(mountpoint_)) mountpoint_.clear();
    return status;
}

void MountedMapfs::cleanup() noexcept {
    if (mountpoint_.empty() || (pid_ < 0 && !is_mounted(mountpoint_))) return;
    if (unmount() >= 0 && !is_mounted(mountpoint_)) return;
    // The daemon did not stop: detach the mount and kill it by its own pid,
    // and the server its supervisor started.
    // (From /proc, not the status report: the mount may not answer.)
    if (pid_ > 0) {
        std::ifstream children("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) + "/children");
        for (pid_t child = 0; children >> child;) ::kill(child, SIGKILL);
    }
    if (is_mounted(mountpoint_)) run("fusermount3 -uz " + quote(mountpoint_.string()));
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
}

MountTest::MountTest(Storage storage)
    : storage_unavailable_(TempDir::unavailable(storage)), dir(storage_unavailable_.empty() ? storage : Storage::any) {
    std::filesystem::create_directory(mnt);
}

void MountTest::SetUp() {
    if (!storage_unavailable_.empty()) GTEST_SKIP() << storage_unavailable_;
    if (passthrough_pass()) require_passthrough();
}

void MountTest::TearDown() {
    if (daemon && HasFailure()) std::cerr << "--- mapfs log ---\n" << daemon->log() << "-----------------\n";
    daemon.reset();
    EXPECT_FALSE(is_mounted(mnt)) << "the mount was left behind";
}

std::filesystem::path MountTest::backing(const std::string& name, const std::string& bytes) {
    return dir.write_file(name, bytes);
}

void MountTest::mount_args(const std::vector<std::string>& arguments, const std::vector<std::string>& environment,
                           const std::vector<std::string>& wrapper) {
    daemon = std::make_unique<MountedMapfs>(arguments, mnt, dir / "mapfs.log", environment, wrapper);
    ASSERT_TRUE(daemon->live()) << "mapfs did not mount (exit status " << daemon->wait_for_exit(0) << "); its log:\n"
                                << daemon->log();
}

void MountTest::mount_config(const std::string& toml, const std::vector<std::string>& extra) {
    const auto config = dir.write_file("mapfs.toml", toml);
    std::vector<std::string> arguments{config.string(), mnt.string()};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    mount_args(arguments);
}

pid_t MountTest::wait_for_new_server(pid_t old, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        const pid_t now = daemon->server_pid();
        if (now > 0 && now != old) return now;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

pid_t MountTest::kill_server() {
    const pid_t old = daemon->server_pid();
    EXPECT_GT(old, 0);
    EXPECT_NE(old, daemon->pid()) << "the supervisor must not be the server";
    if (old <= 0) return -1;
    EXPECT_EQ(::kill(old, SIGKILL), 0);
    const pid_t fresh = wait_for_new_server(old);
    EXPECT_GT(fresh, 0) << "no server took the mount over; log:\n" << daemon->log();
    return fresh;
}

std::string MountTest::ok(const std::string& command) {
    const CommandResult result = run(command, dir.path());
    EXPECT_EQ(result.status, 0) << "command: " << command << "\noutput: " << result.output;
    return result.output;
}

std::string MountTest::python(const std::string& code, const std::vector<std::string>& arguments) {
    const auto script = dir.write_file("snippet.py", "import os, errno, sys, time, mmap\n" + code);
    std::string command = "python3 " + quote(script.string());
    for (const std::string& argument : arguments) command += " " + quote(argument);
    const CommandResult result = run(command, mnt);
    EXPECT_EQ(result.status, 0) << code << "\n" << result.output;
    return result.output;
}

}  // namespace mapfs::testing
