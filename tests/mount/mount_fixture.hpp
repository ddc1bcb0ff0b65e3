// Starts the built mapfs on a temporary directory, waits until the mount
// answers, and always leaves no mount and no process behind: unmount with
// fusermount3 -u, then -uz, then SIGKILL of the daemon's own pid.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace mapfs::testing {

struct CommandResult {
    int status = -1;     // exit status, or 128 + signal
    std::string output;  // stdout and stderr together
};

// Runs `command` with bash -c in `directory` (if not empty).
CommandResult run(const std::string& command, const std::filesystem::path& directory = {});

std::string sha256_of_range(const std::filesystem::path& file, std::uint64_t offset, std::uint64_t length);
std::string quote(const std::string& text);

class MountedMapfs {
public:
    // Starts `mapfs -f ARGS...`; check live() afterwards.
    // `environment` holds extra "NAME=value" settings for the daemon;
    // `wrapper` a command that execs mapfs in the same process (setpriv,
    // prlimit), so that pid() is still the daemon's.
    MountedMapfs(const std::vector<std::string>& arguments, std::filesystem::path mountpoint,
                 std::filesystem::path log_file, const std::vector<std::string>& environment = {},
                 const std::vector<std::string>& wrapper = {});
    ~MountedMapfs();
    MountedMapfs(const MountedMapfs&) = delete;
    MountedMapfs& operator=(const MountedMapfs&) = delete;

    bool live() const noexcept { return live_; }
    // The process started: the supervisor, or the server itself with
    // -o nosupervisor or a NOTIFY_SOCKET.
    pid_t pid() const noexcept { return pid_; }
    // The process serving the mount now, from its status report (-1 when
    // the report cannot be read).
    pid_t server_pid() const { return server_pid_of(mountpoint_); }
    static pid_t server_pid_of(const std::filesystem::path& mountpoint);
    std::string log() const;
    // Unmounts with fusermount3 -u and returns the daemon's exit status.
    int unmount();
    // Waits for the daemon to exit by itself (after a signal, umount...).
    int wait_for_exit(int timeout_ms);
    // After the daemon was killed and reaped: what it left on the mount
    // point is no longer this object's to clean up.
    void disown() noexcept { pid_ = -1; live_ = false; mountpoint_.clear(); }

private:
    void cleanup() noexcept;

    pid_t pid_ = -1;
    int exit_status_ = -1;
    bool live_ = false;
    std::filesystem::path mountpoint_;
    std::filesystem::path log_file_;
};

bool is_mounted(const std::filesystem::path& mountpoint);
std::string mapfs_binary();
// A copy of the mapfs binary that any user can run, in `dir` (opened to
// others): the build tree may sit where others cannot search, as under
// /root (0700), and tests run mapfs as user nobody.
std::string mapfs_binary_for_anyone(const TempDir& dir);
// MAPFS_TEST_TRANSPORT: the transport every mount of this run is given,
// unless its arguments name one; "" when none is.
std::string forced_transport();
// MAPFS_TEST_PASSTHROUGH=auto: every mount of this run may pass windows
// through (the suite's passthrough pass). Otherwise mounts are given
// passthrough=off unless their arguments name it, so that the first pass
// serves every window through mapfs, as a user mount does (=leave: nothing
// is added, to run a test against a binary older than the option).
bool passthrough_pass();
// Why this machine cannot pass windows through, from what the kernel and
// this process are, not from mapfs: a kernel before 6.9, no CAP_SYS_ADMIN,
// a user namespace. "" when it can: mapfs must then pass through.
std::string passthrough_precondition_missing();
// Why a mount here does not pass windows through, from a probe mount made
// once; "" when it does.
std::string passthrough_unavailable_because();
// For SetUp: skips the test where the machine cannot pass through, fails
// it where the machine can and mapfs does not.
void require_passthrough();

// A test with a temp dir holding backing files, a mount point and a log.
class MountTest : public ::testing::Test {
protected:
    // `storage`: what the temp dir must live on; a test whose storage this
    // machine lacks is skipped with the reason (SetUp).
    explicit MountTest(Storage storage = Storage::any);
    void SetUp() override;
    void TearDown() override;

private:
    std::string storage_unavailable_;

protected:
    TempDir dir;
    std::filesystem::path mnt = dir / "mnt";
    std::unique_ptr<MountedMapfs> daemon;

    // Writes `bytes` to `name` in the temp dir.
    std::filesystem::path backing(const std::string& name, const std::string& bytes);
    // Writes a TOML config and mounts it; fails the test if the mount does not come up.
    void mount_config(const std::string& toml, const std::vector<std::string>& extra = {});
    void mount_args(const std::vector<std::string>& arguments, const std::vector<std::string>& environment = {},
                    const std::vector<std::string>& wrapper = {});
    std::filesystem::path at(const std::string& window) const { return mnt / window; }
    // Waits until a server other than `old` serves the mount; its pid, or -1.
    pid_t wait_for_new_server(pid_t old, int timeout_ms = 20000);
    // kill -9 of the serving process (not the supervisor); the pid of the
    // one that took over, or -1.
    pid_t kill_server();
    // Runs a command in the temp dir, expecting success.
    std::string ok(const std::string& command);
    // Runs Python code (os, errno, sys, time and mmap imported) in the mount
    // directory with `arguments` in sys.argv[1:], expecting success; returns
    // what it printed.
    std::string python(const std::string& code, const std::vector<std::string>& arguments = {});
};

// A MountTest whose files live on a disk file system: for what tmpfs does
// differently (its pages are the file: they cannot be dropped, a read
// fault on a hole allocates it, msync has nothing to write).
class DiskMountTest : public MountTest {
protected:
    DiskMountTest() : MountTest(Storage::disk) {}
};

}  // namespace mapfs::testing
