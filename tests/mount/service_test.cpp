// mapfs as a service: the systemd notify protocol through a NOTIFY_SOCKET
// the test owns, live reload on SIGHUP, mount(8) with -t fuse.mapfs.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
public:
    explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("bind");
    }
    ~NotifySocket() { ::close(fd_); }

    std::string environment() const { return "NOTIFY_SOCKET=" + path_.string(); }

    // The next message, or "" after `timeout_ms`.
    std::string receive(int timeout_ms) {
        pollfd wait{fd_, POLLIN, 0};
        if (::poll(&wait, 1, timeout_ms) <= 0) return "";
        char buffer[4096];
        const ssize_t count = ::recv(fd_, buffer, sizeof buffer, 0);
        return count > 0 ? std::string(buffer, static_cast<std::size_t>(count)) : "";
    }

    // Messages until one contains `wanted` (returned) or `timeout_ms` passes ("").
    std::string wait_for(const std::string& wanted, int timeout_ms) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (std::chrono::steady_clock::now() < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            const std::string message = receive(static_cast<int>(left.count()) + 1);
            if (message.find(wanted) != std::string::npos) return message;
        }
        return "";
    }

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

class ServiceTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::string original = pattern_bytes(1 << 20, 91);
    NotifySocket notify{dir / "notify.sock"};

    void SetUp() override { disk = backing("disk.img", original); }

    std::string config(const std::string& windows) {
        return "[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n" + windows;
    }
    static std::string window(const std::string& name, const std::string& offset, const std::string& length) {
        return "[[window]]\nname = \"" + name + "\"\nregion = \"d\"\noffset = " + offset + "\nlength = " + length +
               "\naccess = \"write\"\n";
    }
};

TEST_F(ServiceTest, ReadyOnlyOnceTheMountAnswersWithStatus) {
    dir.write_file("mapfs.toml", config(window("a", "0", "4096") + window("b", "8192", "4096")));
    // Start the daemon on another thread and watch the socket meanwhile.
    std::thread starter([&] { daemon = std::make_unique<MountedMapfs>(std::vector<std::string>{(dir / "mapfs.toml").string(), mnt.string()},
                                                                     mnt, dir / "mapfs.log", std::vector<std::string>{notify.environment()}); });
    const std::string ready = notify.wait_for("READY=1", 20000);
    // At READY=1 the mount must already answer requests.
    const bool mounted_at_ready = is_mounted(mnt);
    const CommandResult read = run("timeout 5 head -c 16 " + quote(at("b").string()));
    starter.join();
    ASSERT_TRUE(daemon && daemon->live()) << (daemon ? daemon->log() : "");
    EXPECT_NE(ready, "") << "no READY=1";
    EXPECT_TRUE(mounted_at_ready);
    EXPECT_EQ(read.status, 0) << read.output;
    EXPECT_EQ(read.output, original.substr(8192, 16));
    EXPECT_NE(ready.find("STATUS=1 region, 2 windows on " + mnt.string()), std::string::npos) << ready;
}

TEST_F(ServiceTest, WatchdogPingsWhenSystemdAsks) {
    dir.write_file("mapfs.toml", config(window("a", "0", "4096")));
    mount_args({(dir / "mapfs.toml").string(), mnt.string()}, {notify.environment(), "WATCHDOG_USEC=200000"});
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    int pings = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (std::chrono::steady_clock::now() < deadline)
        if (notify.receive(200).find("WATCHDOG=1") != std::string::npos) ++pings;
    EXPECT_GE(pings, 4) << "WatchdogSec=200ms wants a ping at least every 100 ms";
}

// Counts WATCHDOG=1 pings over `milliseconds`.
int pings_during(NotifySocket& notify, int milliseconds) {
    int pings = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
    while (std::chrono::steady_clock::now() < deadline)
        if (notify.receive(20).find("WATCHDOG=1") != std::string::npos) ++pings;
    return pings;
}

// A daemon whose requests are stuck must stop pinging, so that systemd
// restarts it. The stuck request is real: mapfs "outer" serves a window of a
// file on mapfs "inner", and inner is stopped (SIGSTOP) while a client reads
// through outer, whose request then waits in a page fault on inner's file.
TEST_F(ServiceTest, WatchdogStopsWhileRequestsAreStuckAndResumes) {
    mount_args({"-w", "disk:file=" + disk.string() + ",cache=auto", mnt.string()});
    const std::filesystem::path outer_mnt = dir / "outer";
    std::filesystem::create_directory(outer_mnt);
    MountedMapfs outer({"-w", "w:file=" + at("disk").string() + ",access=read,cache=none", outer_mnt.string()}, outer_mnt,
                       dir / "outer.log", {notify.environment(), "WATCHDOG_USEC=200000"});
    ASSERT_TRUE(outer.live()) << outer.log();
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    EXPECT_GE(pings_during(notify, 500), 4) << "an idle daemon is healthy";

    const pid_t inner = daemon->server_pid();
    ASSERT_GT(inner, 0);
    ASSERT_EQ(::kill(inner, SIGSTOP), 0);
    struct Resume {
        pid_t pid;
        ~Resume() { ::kill(pid, SIGCONT); }
    } resume{inner};
    std::thread reader([&] { run("timeout 30 dd if=" + quote((outer_mnt / "w").string()) + " of=/dev/null bs=64k count=1"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the read reaches outer and sticks
    while (!notify.receive(0).empty()) {}  // pings sent before it stuck
    const int pings_while_stuck = pings_during(notify, 800);
    ::kill(inner, SIGCONT);
    reader.join();
    EXPECT_EQ(pings_while_stuck, 0) << "outer pinged while its read request was stuck";
    EXPECT_GE(pings_during(notify, 500), 4) << "pings must resume once requests finish";
}

TEST_F(ServiceTest, SigtermSaysStoppingAndExitsZero) {
    dir.write_file("mapfs.toml", config(window("a", "0", "4096")));
    mount_args({(dir / "mapfs.toml").string(), mnt.string()}, {notify.environment()});
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    ASSERT_EQ(::kill(daemon->pid(), SIGTERM), 0);
    EXPECT_NE(notify.wait_for("STOPPING=1", 10000), "");
    EXPECT_EQ(daemon->wait_for_exit(10000), 0);
    EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(ServiceTest, ReloadAddsRemovesAndChangesWindowsWhileOldHandlesKeepTheirBytes) {
    dir.write_file("mapfs.toml", config(window("keep", "0", "4096") + window("gone", "4096", "4096") +
                                        window("sub/changed", "8192", "4096")));
    mount_args({(dir / "mapfs.toml").string(), mnt.string()}, {notify.environment()});
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    const std::string script = R"(
import os, sys, time, signal
pid, config, new_config = int(sys.argv[1]), sys.argv[2], sys.argv[3]
gone = os.open("gone", os.O_RDWR)
changed = os.open("sub/changed", os.O_RDWR)
before = os.pread(gone, 16, 0)
print(sorted(os.listdir(".")), os.listdir("sub"))
os.rename(new_config, config)
os.kill(pid, signal.SIGHUP)
deadline = time.time() + 10
while "added" not in os.listdir(".") and time.time() < deadline:
    time.sleep(0.02)
print(sorted(os.listdir(".")), os.listdir("sub"))
# The removed and the replaced window still serve their old bytes.
print(os.pread(gone, 16, 0) == before, os.fstat(gone).st_size)
os.pwrite(gone, b"WRITTEN-AFTER-RELOAD", 100)
print(os.pread(changed, 4, 0) == open(")" + disk.string() + R"(", "rb").read()[8192:8196], os.fstat(changed).st_size)
os.close(gone); os.close(changed)
print(os.stat("sub/changed").st_size, os.stat("added").st_size)
print(open("sub/changed", "rb").read(4) == open(")" + disk.string() + R"(", "rb").read()[12288:12292])
)";
    dir.write_file("reload.py", script);
    dir.write_file("new.toml", config(window("keep", "0", "4096") + window("sub/changed", "12288", "2000") +
                                      window("added", "65536", "100")));
    const CommandResult result = run("timeout 60 python3 " + quote((dir / "reload.py").string()) + " " +
                                         std::to_string(daemon->pid()) + " " + quote((dir / "mapfs.toml").string()) + " " +
                                         quote((dir / "new.toml").string()), mnt);
    ASSERT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(result.output,
              "['gone', 'keep', 'sub'] ['changed']\n"
              "['added', 'keep', 'sub'] ['changed']\n"
              "True 4096\n"
              "True 4096\n"
              "2000 100\n"
              "True\n");
    EXPECT_EQ(read_file(disk).substr(4096 + 100, 20), "WRITTEN-AFTER-RELOAD") << "a write through the removed window was lost";
    const std::string reloading = notify.wait_for("RELOADING=1", 5000);
    EXPECT_NE(reloading.find("MONOTONIC_USEC="), std::string::npos) << reloading;
    const std::string ready = notify.wait_for("READY=1", 5000);
    EXPECT_NE(ready.find("STATUS=1 region, 3 windows"), std::string::npos) << ready;
}

// Shared memory must outlive `systemctl reload`: a region of the same name
// and size keeps its memfd; one whose size changed starts empty.
TEST_F(ServiceTest, ReloadKeepsAnonymousMemoryOfTheSameNameAndSize) {
    const auto anon = [](const std::string& name, const std::string& size) {
        return "[[region]]\nname = \"" + name + "\"\nanon = true\nsize = " + size + "\n[[window]]\nname = \"" + name +
               "\"\nregion = \"" + name + "\"\naccess = \"write\"\n";
    };
    dir.write_file("mapfs.toml", anon("shm", "65536") + anon("resized", "4096"));
    mount_args({(dir / "mapfs.toml").string(), mnt.string()}, {notify.environment()});
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    ok("printf KEPT-ACROSS-RELOAD | dd of=mnt/shm bs=1 seek=5000 conv=notrunc status=none");
    ok("printf LOST | dd of=mnt/resized conv=notrunc status=none");
    dir.write_file("mapfs.toml", anon("shm", "65536") + anon("resized", "8192"));
    ASSERT_EQ(::kill(daemon->pid(), SIGHUP), 0);
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    EXPECT_EQ(ok("dd if=mnt/shm bs=1 skip=5000 count=18 status=none"), "KEPT-ACROSS-RELOAD");
    EXPECT_EQ(ok("stat -c %s mnt/resized"), "8192\n");
    EXPECT_EQ(ok("head -c 4 mnt/resized | od -An -c | tr -d ' '"), "\\0\\0\\0\\0\n");
}

// A reload gives every window a new inode, yet handles opened before it keep
// their windows: writes must still drop cached pages across the two sets,
// both from a new window to an old cached handle and back.
TEST_F(ServiceTest, WritesDropCachedPagesAcrossAReload) {
    const std::string keep = "cache = \"keep\"\n";
    dir.write_file("mapfs.toml", config(window("w", "0", "8192") + window("k", "4096", "4096") + keep));
    mount_args({(dir / "mapfs.toml").string(), mnt.string()}, {notify.environment()});
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    dir.write_file("new.toml", config(window("w", "0", "8192") + window("k2", "4096", "4096") + keep));
    const std::string script = R"(
import os, sys, time, signal
pid, config, new_config = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def sees(fd, data):
    deadline = time.time() + 5
    while os.pread(fd, len(data), 0) != data and time.time() < deadline:
        time.sleep(0.01)
    return os.pread(fd, len(data), 0) == data
k_old = os.open("k", os.O_RDONLY); os.pread(k_old, 16, 0)
w_old = os.open("w", os.O_RDWR)
os.rename(new_config, config)
os.kill(pid, signal.SIGHUP)
deadline = time.time() + 10
while "k2" not in os.listdir(".") and time.time() < deadline:
    time.sleep(0.02)
w_new = os.open("w", os.O_RDWR)
os.pwrite(w_new, b"NEW-WINDOW-WRITE", 4096)
print(sees(k_old, b"NEW-WINDOW-WRITE"))
k2 = os.open("k2", os.O_RDONLY); os.pread(k2, 16, 0)
os.pwrite(w_old, b"OLD-HANDLE-WRITE", 4096)
print(sees(k2, b"OLD-HANDLE-WRITE"))
)";
    dir.write_file("reload.py", script);
    const CommandResult result = run("timeout 60 python3 " + quote((dir / "reload.py").string()) + " " +
                                         std::to_string(daemon->pid()) + " " + quote((dir / "mapfs.toml").string()) + " " +
                                         quote((dir / "new.toml").string()), mnt);
    ASSERT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(result.output, "True\nTrue\n");
}

TEST_F(ServiceTest, AReloadWithAnErrorIsRejectedWhole) {
    dir.write_file("mapfs.toml", config(window("a", "0", "4096") + window("b", "4096", "4096")));
    mount_args({(dir / "mapfs.toml").string(), mnt.string()}, {notify.environment()});
    ASSERT_NE(notify.wait_for("READY=1", 10000), "");
    // One good new window and one bad one: nothing of it may take effect.
    dir.write_file("mapfs.toml", config(window("a", "0", "4096") + window("new", "0", "16") + window("bad", "0", "\"99MiB\"")));
    ASSERT_EQ(::kill(daemon->pid(), SIGHUP), 0);
    const std::string ready = notify.wait_for("READY=1", 10000);
    EXPECT_NE(ready.find("last reload rejected"), std::string::npos) << ready;
    EXPECT_EQ(ok("ls " + quote(mnt.string()) + " | tr '\\n' ' '"), "a b ");
    EXPECT_NE(daemon->log().find("reload rejected"), std::string::npos);
    EXPECT_NE(daemon->log().find("window \"bad\": length"), std::string::npos) << daemon->log();
    EXPECT_TRUE(read_file(disk) == original);
}

// mount(8) runs helpers with PATH removed, so /bin/sh looks in its default
// path: the test puts the built binary in /usr/local/bin for its duration.
class BinaryInUsrLocalBin {
public:
    BinaryInUsrLocalBin() {
        std::error_code error;
        if (std::filesystem::exists(link_, error) && !std::filesystem::is_symlink(link_, error)) return;
        std::filesystem::remove(link_, error);
        std::filesystem::create_symlink(mapfs_binary(), link_, error);
        made_ = !error;
    }
    ~BinaryInUsrLocalBin() {
        std::error_code error;
        if (made_) std::filesystem::remove(link_, error);
    }
    bool usable() const { return made_; }

private:
    std::filesystem::path link_ = "/usr/local/bin/mapfs";
    bool made_ = false;
};

TEST_F(ServiceTest, MountTypeFuseMapfsAndUmount) {
    BinaryInUsrLocalBin binary;
    if (!binary.usable()) GTEST_SKIP() << "/usr/local/bin/mapfs exists and is not ours";
    dir.write_file("mapfs.toml", config(window("a", "100", "4096")));
    // dev,suid as fstab's "defaults" makes mount(8) pass them: they must not
    // take. mount(8) prints nothing on success: the logs go to syslog.
    EXPECT_EQ(ok("mount -t fuse.mapfs " + quote((dir / "mapfs.toml").string()) + " " + quote(mnt.string()) +
                 " -o allow_other,nofail,_netdev,x-systemd.automount,noatime,dev,suid"), "");
    ASSERT_TRUE(is_mounted(mnt));
    const std::string mounts = ok("grep " + quote(" " + mnt.string() + " ") + " /proc/mounts");
    EXPECT_NE(mounts.find("fuse.mapfs"), std::string::npos);
    EXPECT_NE(mounts.find("nosuid"), std::string::npos) << mounts;
    EXPECT_NE(mounts.find("nodev"), std::string::npos) << mounts;
    EXPECT_EQ(ok("head -c 8 " + quote(at("a").string())), original.substr(100, 8));
    const std::string pid = ok("pgrep -f -- " + quote("^mapfs " + (dir / "mapfs.toml").string()));
    ok("umount " + quote(mnt.string()));
    EXPECT_FALSE(is_mounted(mnt));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (run("kill -0 " + pid).status == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_NE(run("kill -0 " + pid).status, 0) << "the daemon did not exit after umount";
}

}  // namespace
}  // namespace mapfs::testing

namespace mapfs::testing {
namespace {

// File names need not be UTF-8 but JSON must be: such a name is shown with
// U+FFFD instead of the status file failing to open.
TEST_F(ServiceTest, StatusReportOpensWithANameThatIsNotUtf8) {
    mount_args({"-w", "caf\xe9:file=" + disk.string() + ",length=4096", mnt.string()});
    const std::string report = ok("cat mnt/.mapfs/status");
    EXPECT_NE(report.find("caf\xef\xbf\xbd"), std::string::npos) << report;
    EXPECT_EQ(ok("cat mnt/caf$'\\xe9' | wc -c"), "4096\n");
}

TEST_F(ServiceTest, StatusReportCountsTheIoOfThisTest) {
    dir.write_file("mapfs.toml", config(R"([[window]]
name = "dir/a"
region = "d"
offset = 100
length = 12288
access = "write"
cache = "none"
[[region]]
name = "mem"
anon = true
size = "1MiB"
[[window]]
name = "m"
region = "mem"
access = "copy"
)"));
    mount_args({(dir / "mapfs.toml").string(), mnt.string()});
    ok("dd if=/dev/zero of=" + quote(at("dir/a").string()) + " bs=4096 count=3 conv=notrunc status=none");
    ok("dd if=" + quote(at("dir/a").string()) + " of=/dev/null bs=4096 count=2 status=none");
    EXPECT_NE(run("printf x | dd of=" + quote(at("dir/a").string()) + " bs=1 seek=12288 conv=notrunc status=none").status, 0);
    const std::string report = python(R"(
import json
held = os.open("dir/a", os.O_RDONLY)
status = json.load(open(".mapfs/status"))
os.close(held)
a = [w for w in status["windows"] if w["name"] == "dir/a"][0]
print(status["version"] != "", status["mountpoint"], status["uptime_seconds"] >= 0)
print(a["region"], a["offset"], a["length"], a["access"], a["cache"], a["open_handles"])
print(a["reads"], a["bytes_read"], a["writes"], a["bytes_written"], a["errors"])
d = [r for r in status["regions"] if r["name"] == "d"][0]
mem = [r for r in status["regions"] if r["name"] == "mem"][0]
print(d["path"].endswith("disk.img"), d["anonymous"], d["size"], d["mapped_bytes"] >= 12288, d["resident_bytes"] > 0)
print(mem["path"], mem["anonymous"], mem["size"], mem["mapped_bytes"])
print(sorted(os.listdir(".")), os.listdir(".mapfs"))
)");
    EXPECT_EQ(report, "True " + mnt.string() + " True\n"
                      "d 100 12288 write none 1\n"
                      "2 8192 4 12288 1\n"
                      "True False 1048576 True True\n"
                      "None True 1048576 1048576\n"
                      "['dir', 'm'] ['status']\n");
    EXPECT_NE(run("echo x > " + quote((mnt / ".mapfs/status").string())).output.find("Permission denied"), std::string::npos);
    // The table for people, and --json passed through.
    const std::string table = ok(quote(mapfs_binary()) + " status " + quote(mnt.string()));
    EXPECT_NE(table.find("dir/a"), std::string::npos) << table;
    EXPECT_NE(table.find("BYTES_WRITTEN"), std::string::npos) << table;
    EXPECT_NE(table.find("CACHE  PAGES"), std::string::npos) << table;
    EXPECT_NE(table.find("none   lazy"), std::string::npos) << table;
    EXPECT_EQ(ok(quote(mapfs_binary()) + " status " + quote(mnt.string()) + " --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"windows\"]))'"), "2\n");
}

}  // namespace
}  // namespace mapfs::testing

namespace mapfs::testing {
namespace {

// `mapfs reload` is what the service's ExecReload= runs: it signals the
// daemon and waits for the outcome, so that a rejected configuration fails
// the reload with its reasons instead of passing silently.
TEST_F(ServiceTest, MapfsReloadReportsTheOutcome) {
    const auto config_path = dir.write_file("mapfs.toml", "mountpoint = \"mnt\"\n" + config(window("a", "0", "4096")));
    mount_args({config_path.string()});
    const std::string reload = quote(mapfs_binary()) + " reload ";
    dir.write_file("mapfs.toml", "mountpoint = \"mnt\"\n" + config(window("a", "0", "4096") + window("b", "4096", "4096")));
    CommandResult done = run(reload + quote(config_path.string()) + " --pid " + std::to_string(daemon->pid()));
    EXPECT_EQ(done.status, 0) << done.output;
    EXPECT_EQ(done.output, "");
    EXPECT_EQ(ok("ls mnt"), "a\nb\n");
    dir.write_file("mapfs.toml", "mountpoint = \"mnt\"\n" + config(window("a", "0", "4096") + "mode = 644\n"));
    done = run(reload + quote(config_path.string()));
    EXPECT_EQ(done.status, 1) << done.output;
    EXPECT_NE(done.output.find("rejected, the running configuration stays in force"), std::string::npos) << done.output;
    EXPECT_NE(done.output.find("mapfs.toml:11: window \"a\": mode: is the decimal number 644"), std::string::npos)
        << done.output;
    EXPECT_EQ(ok("ls mnt"), "a\nb\n");
    // A broken file cannot name its mount point; the mount's source does.
    dir.write_file("mapfs.toml", "this is not TOML [");
    done = run(reload + quote(config_path.string()));
    EXPECT_EQ(done.status, 1) << done.output;
    EXPECT_NE(done.output.find("not valid TOML"), std::string::npos) << done.output;
    done = run(reload + quote(mnt.string()) + " --pid 1");
    EXPECT_EQ(done.status, 1);
    EXPECT_NE(done.output.find("no running mapfs mount for"), std::string::npos) << done.output;
    dir.write_file("mapfs.toml", "mountpoint = \"mnt\"\n" + config(window("a", "0", "4096")));
    done = run(reload + quote(mnt.string()));
    EXPECT_EQ(done.status, 0) << done.output;
    EXPECT_EQ(ok("ls mnt"), "a\n");
}

// `mapfs cleanup` is what the service's ExecStopPost= runs: a dead mount
// goes, a live one stays.
TEST_F(ServiceTest, MapfsCleanupDetachesOnlyADeadMount) {
    const auto config_path = dir.write_file("mapfs.toml", "mountpoint = \"mnt\"\n" + config(window("a", "0", "4096")));
    // Without a supervisor: a killed server leaves a dead mount.
    mount_args({config_path.string(), "-o", "nosupervisor"});
    const std::string cleanup = quote(mapfs_binary()) + " cleanup " + quote(config_path.string());
    EXPECT_EQ(ok(cleanup), "");
    EXPECT_TRUE(is_mounted(mnt));
    ASSERT_EQ(::kill(daemon->pid(), SIGKILL), 0);
    daemon->wait_for_exit(10000);
    daemon->disown();
    EXPECT_NE(ok(cleanup).find("detached the dead mount on " + mnt.string()), std::string::npos);
    EXPECT_FALSE(is_mounted(mnt));
}

// Without access to /dev/fuse, say what to do. The daemon runs as nobody in
// a mount namespace of its own whose /dev/fuse is root's only (mode 0600).
TEST_F(ServiceTest, NoAccessToDevFuseSaysWhatToDo) {
    const std::string script = R"SH(
set -eu
mount -t tmpfs -o mode=755 mapfs-test-dev /dev
mknod -m 600 /dev/fuse c 10 229 && mknod -m 666 /dev/null c 1 3
exec setpriv --reuid=65534 --regid=65534 --clear-groups "$1" -f -w 'w:anon,size=4096' "$2"
)SH";
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
    const std::string binary = mapfs_binary_for_anyone(dir);
    // Started where nobody may not search the parents (as in a clone under
    // /root): the supervisor must still start its server there.
    ok("mkdir -p locked/open && chmod 700 locked && chmod 755 locked/open");
    const CommandResult result = run("timeout 20 unshare -m --propagation private bash -c " + quote(script) + " _ " +
                                     quote(binary) + " " + quote(mnt.string()), dir / "locked" / "open");
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_NE(result.output.find("cannot open /dev/fuse: Permission denied. mapfs needs read and write access to /dev/fuse"),
              std::string::npos) << result.output;
    EXPECT_NE(result.output.find("udev rule"), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("fuse: failed to open"), std::string::npos) << "libfuse's bare message:\n" << result.output;
}

}  // namespace
}  // namespace mapfs::testing
