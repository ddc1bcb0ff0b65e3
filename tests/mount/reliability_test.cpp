// Faults surface as errors, committed data survives, stops are clean.
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

constexpr std::uint64_t mib = 1024 * 1024;

class ShrinkTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::filesystem::path other;

    void SetUp() override {
        disk = backing("disk.img", pattern_bytes(4 * mib, 51));
        other = backing("other.img", pattern_bytes(mib, 52));
        mount_config("[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n[[region]]\nname = \"o\"\nfile = \"" +
                     other.string() + R"("
[[window]]
name = "w"
region = "d"
offset = "1MiB"
length = "2MiB"
access = "write"
[[window]]
name = "direct"
region = "d"
offset = "1MiB"
length = "2MiB"
access = "write"
cache = "none"
[[window]]
name = "cow"
region = "d"
offset = "1MiB"
length = "2MiB"
access = "copy"
[[window]]
name = "head"
region = "d"
length = "64KiB"
access = "read"
[[window]]
name = "other"
region = "o"
access = "write"
)");
    }
};

TEST_F(ShrinkTest, TruncatedBackingFileGivesEioAndTheDaemonSurvives) {
    const std::string script = R"(
import os, errno, multiprocessing, time
DISK = ")" + disk.string() + R"("
MIB = 1 << 20

def reader(name, stop):
    while not stop.is_set():
        fd = os.open(name, os.O_RDONLY)
        assert len(os.pread(fd, 65536, 0)) == 65536
        os.close(fd)

def attempt(name, op, offset):
    fd = os.open(name, os.O_RDWR)
    try:
        if op == "read":
            return len(os.pread(fd, 4096, offset))
        if op == "write":
            return os.pwrite(fd, b"z" * 4096, offset)
        os.fsync(fd); return 0
    except OSError as e:
        return errno.errorcode[e.errno]
    finally:
        os.close(fd)

stop = multiprocessing.Event()
readers = [multiprocessing.Process(target=reader, args=(n, stop)) for n in ("head", "other", "head")]
for r in readers: r.start()
outcomes = {}
for i in range(60):
    os.truncate(DISK, 2 * MIB)            # w covers [1 MiB, 3 MiB): its second half is gone
    for name in ("w", "direct", "cow"):
        for op, offset in (("read", MIB + 4096), ("write", MIB + 8192), ("read", 4096), ("write", 8192), ("fsync", 0)):
            key = (name, op, offset >= MIB)
            outcomes.setdefault(key, set()).add(attempt(name, op, offset))
    os.truncate(DISK, 4 * MIB)            # grows back (zeros)
    for name in ("w", "direct"):
        assert attempt(name, "read", MIB + 4096) == 4096, name
        assert attempt(name, "write", MIB + 8192) == 4096, name
stop.set()
for r in readers:
    r.join(); assert r.exitcode == 0, "a reader of another window failed"
for key in sorted(outcomes):
    print(key[0], key[1], "lost" if key[2] else "kept", sorted(map(str, outcomes[key])))
)";
    dir.write_file("shrink.py", script);
    const CommandResult result = run("timeout 300 python3 " + quote((dir / "shrink.py").string()), mnt);
    ASSERT_EQ(result.status, 0) << result.output;
    // The lost half fails with EIO through every kind of window; the kept half works.
    EXPECT_EQ(result.output,
              "cow fsync kept ['0']\n"
              "cow read kept ['4096']\n"
              "cow read lost ['EIO']\n"
              "cow write kept ['4096']\n"
              "cow write lost ['EIO']\n"
              "direct fsync kept ['0']\n"
              "direct read kept ['4096']\n"
              "direct read lost ['EIO']\n"
              "direct write kept ['4096']\n"
              "direct write lost ['EIO']\n"
              "w fsync kept ['0']\n"
              "w read kept ['4096']\n"
              "w read lost ['EIO']\n"
              "w write kept ['4096']\n"
              "w write lost ['EIO']\n");
    EXPECT_EQ(::kill(daemon->pid(), 0), 0) << "the daemon died";
    EXPECT_TRUE(is_mounted(mnt));
    EXPECT_TRUE(ok("cat " + quote(at("other").string())) == read_file(other)) << "another region stopped serving";
    EXPECT_EQ(daemon->unmount(), 0);
}

class DurabilityTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::string original = pattern_bytes(4 * mib, 61);

    void SetUp() override {
        disk = backing("disk.img", original);
        // Without a supervisor, a killed server is the end of the mount.
        mount_args({disk.string(), mnt.string(), "-w", "p:offset=12345,length=2MiB,access=write", "-o", "nosupervisor"});
    }

    void kill_daemon() {
        ASSERT_EQ(::kill(daemon->pid(), SIGKILL), 0);
        EXPECT_EQ(daemon->wait_for_exit(10000), 128 + SIGKILL);
    }
};

TEST_F(DurabilityTest, FsyncedBytesSurviveSigkill) {
    const std::string data = pattern_bytes(mib, 62);
    dir.write_file("chunk", data);
    ok("dd if=chunk of=" + quote(at("p").string()) + " bs=64k seek=3 conv=notrunc,fsync status=none");
    kill_daemon();
    EXPECT_EQ(read_file(disk).substr(12345 + 3 * 65536, mib), data);
}

TEST_F(DurabilityTest, StoresWithoutFsyncSurviveSigkill) {
    python("fd = os.open('p', os.O_WRONLY)\nos.pwrite(fd, b'NOT-SYNCED-BUT-STORED', 1000)\nos.close(fd)\n");
    kill_daemon();
    EXPECT_EQ(read_file(disk).substr(12345 + 1000, 21), "NOT-SYNCED-BUT-STORED");
}

// A killed daemon leaves a dead mount ("Transport endpoint is not
// connected"); the next mapfs detaches it and mounts, leaving one mount.
// Over io_uring the kernel ends the connection a moment after the daemon is
// reaped (a kernel worker tears its rings down); a request caught in
// between fails with ECONNABORTED, every later one with ENOTCONN.
TEST_F(DurabilityTest, ADeadMountIsDetachedBeforeMounting) {
    kill_daemon();
    daemon->disown();  // reaped already; the dead mount is still there
    const CommandResult dead = run("for i in $(seq 100); do stat " + quote(mnt.string()) +
                                   " 2>&1 | grep -q 'Transport endpoint is not connected' && exit 0; sleep 0.05; done; "
                                   "stat " + quote(mnt.string()));
    EXPECT_EQ(dead.status, 0) << "the mount of a killed daemon did not end: " << dead.output;
    mount_args({disk.string(), mnt.string()});
    ok("cmp disk.img " + quote(at("disk.img").string()));
    EXPECT_EQ(ok("grep -c ' " + mnt.string() + " ' /proc/self/mountinfo"), "1\n");
    EXPECT_NE(daemon->log().find("detached the dead fuse.mapfs mount"), std::string::npos) << daemon->log();
    EXPECT_EQ(daemon->unmount(), 0);
}

// What a daemonized mapfs left mounted on `mountpoint` goes with this
// object: unmounted, and its server (pid from the status report) killed
// if it does not end by itself.
class DaemonizedMount {
public:
    explicit DaemonizedMount(std::filesystem::path mountpoint) : mountpoint_(std::move(mountpoint)) {}
    ~DaemonizedMount() {
        if (!is_mounted(mountpoint_)) return;
        const pid_t server = MountedMapfs::server_pid_of(mountpoint_);
        run("fusermount3 -u " + quote(mountpoint_.string()) + " || fusermount3 -uz " + quote(mountpoint_.string()));
        for (int tries = 0; server > 0 && ::kill(server, 0) == 0 && tries < 200; ++tries)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (server > 0) ::kill(server, SIGKILL);
    }
    DaemonizedMount(const DaemonizedMount&) = delete;
    DaemonizedMount& operator=(const DaemonizedMount&) = delete;

private:
    std::filesystem::path mountpoint_;
};

// The same, with the next mapfs started by a shell the moment the first is
// reaped, as a restart loop would: the fixture's own first look at the
// mount point would otherwise take the ECONNABORTED the daemon must read as
// "dead" (it refused the mount point as live before).
TEST_F(DurabilityTest, AMapfsStartedTheMomentTheLastIsReapedReplacesItsDeadMount) {
    kill_daemon();
    daemon->disown();
    const std::string transport = forced_transport().empty() ? "" : " -o transport=" + forced_transport();
    const CommandResult second = run(quote(mapfs_binary()) + " -o nosupervisor" + transport + " disk.img mnt", dir.path());
    const DaemonizedMount cleanup(mnt);
    ASSERT_EQ(second.status, 0) << second.output;
    ok("cmp disk.img " + quote(at("disk.img").string()));
    EXPECT_EQ(ok("grep -c ' " + mnt.string() + " ' /proc/self/mountinfo"), "1\n");
}

// A live mount of any kind is refused, naming what is there, unless asked.
TEST_F(DurabilityTest, ALiveMountIsRefusedUnlessOvermountIsGiven) {
    const CommandResult refused = run(quote(mapfs_binary()) + " -f disk.img mnt", dir.path());
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_NE(refused.output.find("already has a live mount (TARGET " + mnt.string() + " SOURCE "), std::string::npos)
        << refused.output;
    EXPECT_NE(refused.output.find("FSTYPE fuse.mapfs); unmount it first, or give -o overmount"), std::string::npos)
        << refused.output;
    EXPECT_EQ(ok("grep -c ' " + mnt.string() + " ' /proc/self/mountinfo"), "1\n");
    ok("mkdir -p tmpfs-point && mount -t tmpfs mapfs-test tmpfs-point");
    const CommandResult on_tmpfs = run(quote(mapfs_binary()) + " -f disk.img tmpfs-point", dir.path());
    ok("umount tmpfs-point");
    EXPECT_EQ(on_tmpfs.status, 2) << on_tmpfs.output;
    EXPECT_NE(on_tmpfs.output.find("SOURCE mapfs-test FSTYPE tmpfs"), std::string::npos) << on_tmpfs.output;
}

TEST_F(DurabilityTest, UmountStopsTheDaemonCleanly) {
    python("fd = os.open('p', os.O_WRONLY)\nos.pwrite(fd, b'BEFORE-UMOUNT', 0)\nos.close(fd)\n");
    ok("umount " + quote(mnt.string()));
    EXPECT_EQ(daemon->wait_for_exit(10000), 0);
    EXPECT_FALSE(is_mounted(mnt));
    EXPECT_EQ(read_file(disk).substr(12345, 13), "BEFORE-UMOUNT");
    EXPECT_TRUE(std::filesystem::is_directory(mnt)) << "the mount point is not usable after umount";
}

}  // namespace
}  // namespace mapfs::testing

namespace mapfs::testing {
namespace {

// A writeback error of the backing file is told to every handle that could
// have lost pages, not only to the first that syncs. The backing file here
// is a window of a second mapfs whose own backing file is then truncated,
// so that writing back the dirty pages fails with EIO in the kernel.
TEST_F(MountTest, EveryHandleHearsAWritebackErrorOfItsFile) {
    const std::filesystem::path inner_mnt = dir / "inner";
    std::filesystem::create_directory(inner_mnt);
    const auto inner_file = backing("inner.img", pattern_bytes(1 << 20, 9));
    MountedMapfs inner({inner_file.string(), inner_mnt.string()}, inner_mnt, dir / "inner.log");
    ASSERT_TRUE(inner.live()) << inner.log();
    const std::string backing_file = (inner_mnt / "inner.img").string();
    mount_config("[[region]]\nname = \"d\"\nfile = \"" + backing_file + "\"\n" +
                 "[[window]]\nname = \"a\"\nregion = \"d\"\nlength = 65536\naccess = \"write\"\n"
                 "[[window]]\nname = \"b\"\nregion = \"d\"\noffset = 4096\nlength = 65536\naccess = \"write\"\n");
    EXPECT_EQ(python(R"(
a1 = os.open("a", os.O_RDWR); a2 = os.open("a", os.O_RDWR); b = os.open("b", os.O_RDWR)
os.pwrite(a1, b"x" * 8192, 8192)            # dirty pages of the inner file
os.truncate(sys.argv[1], 0)                  # the inner mapfs can no longer store them
def fsync(fd):
    try:
        os.fsync(fd); return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
print(fsync(a1), fsync(a2), fsync(b), fsync(a1))
later = os.open("a", os.O_RDWR)
print(fsync(later))
)", {inner_file.string()}), "EIO EIO EIO ok\nok\n");
    // The outer mount holds the inner one busy: unmount it first.
    EXPECT_EQ(daemon->unmount(), 0) << daemon->log();
}

// A backing path swapped for a FIFO between mapfs's look and its open must
// not hold start-up until a writer comes: the open does not block and the
// check is on the open descriptor.
TEST_F(MountTest, ABackingPathSwappedForAFifoNeverBlocksStartUp) {
    backing("file.img", pattern_bytes(65536, 4));
    ok("mkfifo fifo && ln -s file.img path");
    const std::string output = python(R"(
import multiprocessing, subprocess
os.chdir(sys.argv[2])
stop = multiprocessing.Event()
def swap():
    while not stop.is_set():
        for target in ("fifo", "file.img"):
            os.symlink(target, "path.new"); os.rename("path.new", "path")
swapper = multiprocessing.Process(target=swap)
swapper.start()
hung = 0
try:
    for i in range(150):
        # No mount point: the run checks the whole configuration and exits 2.
        done = subprocess.run(["timeout", "5", sys.argv[1], "-f", "-w", "w:file=path,access=read", "no-such-dir"],
                              capture_output=True)
        hung += done.returncode == 124
finally:
    stop.set()
    swapper.join()
print(hung)
)", {mapfs_binary(), dir.path().string()});
    EXPECT_EQ(output, "0\n");
}

// The status report of a 1 TiB window must not make every `cat` of it walk
// 268 million pages: the measurement is bounded in time and shared.
TEST_F(MountTest, StatusOfATebibyteWindowStaysQuick) {
    ok("truncate -s 1T huge.img");
    mount_args({"-w", "huge:file=" + (dir / "huge.img").string() + ",access=read", mnt.string()});
    const auto started = std::chrono::steady_clock::now();
    ok("for i in 1 2 3 4 5 6; do cat mnt/.mapfs/status > /dev/null & done; wait; ls mnt > /dev/null");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_LT(seconds, 5.0);
    EXPECT_NE(ok("cat mnt/.mapfs/status").find("\"size\": 1099511627776"), std::string::npos);
}

}  // namespace
}  // namespace mapfs::testing

namespace mapfs::testing {
namespace {

// The readahead of a mount, from its device number in mountinfo.
std::vector<std::string> readahead_of_mounts_at(const std::filesystem::path& where) {
    std::vector<std::string> found;
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        if (!(fields >> id >> parent >> device >> root >> point) || point != where.string()) continue;
        std::ifstream setting("/sys/class/bdi/" + device + "/read_ahead_kb");
        std::string kilobytes;
        setting >> kilobytes;
        found.push_back(kilobytes);
    }
    return found;
}

// mapfs raises the readahead of its own mount (root only), never of a mount
// that was there before it.
TEST_F(MountTest, ReadaheadIsRaisedOnTheNewMountNotTheOneBelow) {
    struct statvfs sysfs {};
    if (::statvfs("/sys/class/bdi", &sysfs) != 0 || (sysfs.f_flag & ST_RDONLY) != 0)
        GTEST_SKIP() << "/sys is read-only here (a container): neither mapfs nor this test can set a mount's readahead";
    const auto disk = backing("disk.img", pattern_bytes(65536, 8));
    MountedMapfs below({disk.string(), mnt.string()}, mnt, dir / "below.log");
    ASSERT_TRUE(below.live()) << below.log();
    ok("ls mnt");  // its first request after INIT: it has raised its own readahead
    ASSERT_EQ(readahead_of_mounts_at(mnt), std::vector<std::string>{"1024"});
    ok("echo 128 > /sys/class/bdi/$(awk '$5 == \"" + mnt.string() + "\" {print $3}' /proc/self/mountinfo)/read_ahead_kb");
    mount_args({disk.string(), mnt.string(), "-o", "overmount"});
    for (int i = 0; i < 500 && readahead_of_mounts_at(mnt).size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ok("ls mnt");  // the first request after INIT (whose reply lowers readahead) raises it
    EXPECT_EQ(readahead_of_mounts_at(mnt), (std::vector<std::string>{"128", "1024"}));
    EXPECT_EQ(daemon->unmount(), 0);
}

}  // namespace
}  // namespace mapfs::testing
