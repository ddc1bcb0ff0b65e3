// mapfs over a distributed file system: a GlusterFS replica-2 volume on this
// machine, mounted twice (host A and host B), one mapfs per host
// (docs/many-hosts.md). The volume comes up once for the program
// (tests/gluster/volume) and always goes down at its end; where the machine
// refuses it (no root, no network namespaces, GlusterFS missing) every test
// is skipped with the reason.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path volume_base = "/var/tmp/mapfs-gluster";
const std::filesystem::path host_a = volume_base / "hostA";
const std::filesystem::path host_b = volume_base / "hostB";
const std::filesystem::path host_c = volume_base / "hostC";

std::string volume_script() {
    const char* path = std::getenv("MAPFS_GLUSTER_VOLUME");
    return path != nullptr ? path : "tests/gluster/volume";
}

// The volume, up for the whole program.
class GlusterVolume : public ::testing::Environment {
public:
    void SetUp() override {
        const CommandResult up = run("bash " + quote(volume_script()) + " up");
        if (up.status == 77) unavailable_ = up.output;
        else if (up.status != 0) failed_ = "the volume did not come up (exit " + std::to_string(up.status) + "):\n" + up.output;
    }
    void TearDown() override {
        const CommandResult down = run("bash " + quote(volume_script()) + " down");
        if (down.status != 0) ADD_FAILURE() << "the volume did not go down:\n" << down.output;
    }
    static inline std::string unavailable_;
    static inline std::string failed_;
};

const auto* const volume_environment = ::testing::AddGlobalTestEnvironment(new GlusterVolume);

class GlusterTest : public MountTest {
protected:
    void SetUp() override {
        MountTest::SetUp();
        if (IsSkipped()) return;
        if (!GlusterVolume::unavailable_.empty()) GTEST_SKIP() << GlusterVolume::unavailable_;
        ASSERT_TRUE(GlusterVolume::failed_.empty()) << GlusterVolume::failed_;
        if (!forced_transport().empty()) GTEST_SKIP() << "the volume is tested over the default transport only";
        name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::replace(name_.begin(), name_.end(), '/', '-');  // a parameterised test's "Name/0"
    }
    void TearDown() override {
        host_b_mapfs.reset();
        host_a_mapfs.reset();
        std::error_code ignored;
        if (!name_.empty()) std::filesystem::remove(host_a / file(), ignored);
        MountTest::TearDown();
    }

    // This test's file on the volume: its name on every host.
    std::string file() const { return name_ + ".img"; }

    // Makes the test's file on host A, `size` bytes of pattern.
    void make_file(std::size_t size) {
        ok("head -c " + std::to_string(size) + " /dev/urandom > " + quote((host_a / file()).string()) + " && sync " +
           quote((host_a / file()).string()));
    }

    // A mapfs on `host`'s mount of the file, one window "w" with `options`,
    // mounted on dir/`name`.
    std::unique_ptr<MountedMapfs> mount_host(const std::filesystem::path& host, const std::string& name,
                                             const std::string& options) {
        std::filesystem::create_directories(dir / name);
        auto daemon = std::make_unique<MountedMapfs>(
            std::vector<std::string>{"-w", "w:file=" + (host / file()).string() + "," + options, (dir / name).string()},
            dir / name, dir / (name + ".log"));
        EXPECT_TRUE(daemon->live()) << "mapfs on " << host << " did not mount:\n" << daemon->log();
        return daemon;
    }

    std::string window_field(const std::string& mount, const std::string& field) {
        return ok("python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[\"windows\"][0][sys.argv[2]])' " +
                  quote((dir / mount / ".mapfs/status").string()) + " " + field);
    }

    std::unique_ptr<MountedMapfs> host_a_mapfs;
    std::unique_ptr<MountedMapfs> host_b_mapfs;

private:
    std::string name_;
};

// The rule of docs/many-hosts.md, for one cache mode: after the writer's
// fsync (through mapfs on host A, or on host A's mount itself) and the
// reader's next open on host B, the reader sees the new bytes. In every one
// of 100 trials. The other looks (a descriptor or a client mapping kept
// from before, writes not fsync'd) are measured and printed: the docs say
// what they show.
class CrossHostTest : public GlusterTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(CrossHostTest, AfterTheWritersFsyncTheReadersNextOpenSeesTheNewBytes) {
    const std::string mode = GetParam();
    make_file(16 << 20);
    host_a_mapfs = mount_host(host_a, "a", "access=write,cache=auto");
    host_b_mapfs = mount_host(host_b, "b", "access=read,cache=" + mode);
    ASSERT_TRUE(host_a_mapfs->live() && host_b_mapfs->live());
    const char* trials_script = std::getenv("MAPFS_GLUSTER_TRIALS");
    const CommandResult trials = run(std::string("python3 ") + quote(trials_script != nullptr ? trials_script : "tests/gluster/cross_host_trials.py") +
                                     " --trials 100 --reader " + quote((dir / "b/w").string()) + " --writer " +
                                     quote((dir / "a/w").string()) + " --writer-direct " + quote((host_a / file()).string()) +
                                     (mode == "none" ? " --no-mmap" : ""));
    ASSERT_EQ(trials.status, 0) << trials.output;
    std::cout << "cache=" << mode << ": " << trials.output;
    EXPECT_NE(trials.output.find("\"new_open\": 0,"), std::string::npos)
        << "host B's window showed old bytes at a new open after host A's fsync: " << trials.output
        << "\nhost B's log:\n" << host_b_mapfs->log();
}

INSTANTIATE_TEST_SUITE_P(EveryCacheMode, CrossHostTest, ::testing::Values("auto", "cto", "none"));

// Both bricks gone: the window's fsync fails (ENOTCONN) at once, counts in
// its errors, is logged at error priority with the window and the file, and
// is told to every handle that was open, once, as the kernel tells its own
// writeback errors; a handle opened once the bricks are back (the probe)
// hears nothing of it.
TEST_F(GlusterTest, AFailedFsyncIsCountedLoggedAndToldToEveryHandle) {
    make_file(4 << 20);
    host_a_mapfs = mount_host(host_a, "a", "access=write");
    ASSERT_TRUE(host_a_mapfs->live());
    const std::string window = (dir / "a/w").string();
    const std::string script = R"(
import errno, os, subprocess, sys, time
volume, window = sys.argv[1], sys.argv[2]
first = os.open(window, os.O_RDWR)
second = os.open(window, os.O_RDWR)
os.pwrite(first, b'before' * 1000, 0)
os.fsync(first)
for brick in ('1', '2'):
    subprocess.run(['bash', volume, 'brick', 'kill', brick], check=True)
time.sleep(0.5)
os.pwrite(first, b'during' * 1000, 65536)
try:
    os.fsync(first)
    print('first fsync: 0')
except OSError as error:
    print('first fsync:', errno.errorcode[error.errno])
subprocess.run(['bash', volume, 'brick', 'start'], check=True)
deadline = time.monotonic() + 60
while True:
    probe = os.open(window, os.O_RDWR)
    try:
        os.fsync(probe)
        break
    except OSError:
        if time.monotonic() > deadline: raise
        time.sleep(0.2)
    finally:
        os.close(probe)
for name, fd in (('second', second), ('second again', second), ('first again', first), ('first once more', first)):
    try:
        os.fsync(fd)
        print(name + ' fsync: 0')
    except OSError as error:
        print(name + ' fsync:', errno.errorcode[error.errno])
)";
    dir.write_file("outage.py", script);
    const CommandResult outage = run("python3 outage.py " + quote(volume_script()) + " " + quote(window), dir.path());
    ASSERT_EQ(outage.status, 0) << outage.output;
    const bool refused = outage.output.find("first fsync: ENOTCONN") != std::string::npos ||
                         outage.output.find("first fsync: EIO") != std::string::npos;
    EXPECT_TRUE(refused) << outage.output;
    EXPECT_TRUE(outage.output.find("second fsync: ENOTCONN") != std::string::npos ||
                outage.output.find("second fsync: EIO") != std::string::npos)
        << "a handle open during the failure must hear of it:\n" << outage.output;
    EXPECT_NE(outage.output.find("second again fsync: 0"), std::string::npos) << "told once:\n" << outage.output;
    // `first` hears of the failures of the probes after its own (as it
    // would of the kernel's), once.
    EXPECT_NE(outage.output.find("first once more fsync: 0"), std::string::npos) << outage.output;
    EXPECT_GE(std::stoull(window_field("a", "errors")), 1u);
    const std::string log = host_a_mapfs->log();
    EXPECT_NE(log.find("error: window 'w': writing back to " + (host_a / file()).string() + " failed: "), std::string::npos)
        << log;
}

// A client mount with direct I/O cannot map its files shared: mapfs says
// so, naming the file, and exits 3 (a fault of the machine, not the file).
TEST_F(GlusterTest, ADirectIoMountIsRefusedWithTheFileAndTheCauseNamed) {
    make_file(1 << 20);
    const CommandResult third = run("bash " + quote(volume_script()) + " third direct-io-mode=enable");
    ASSERT_EQ(third.status, 0) << third.output;
    std::filesystem::create_directories(dir / "c");
    const CommandResult refused =
        run(quote(mapfs_binary()) + " -f -w " + quote("w:file=" + (host_c / file()).string() + ",access=read") + " " +
            quote((dir / "c").string()));
    run("umount " + quote(host_c.string()));
    EXPECT_EQ(refused.status, 3) << refused.output;
    EXPECT_NE(refused.output.find((host_c / file()).string()), std::string::npos) << refused.output;
    EXPECT_NE(refused.output.find("direct-io-mode=enable"), std::string::npos) << refused.output;
    EXPECT_FALSE(is_mounted(dir / "c"));
}

// kill -9 of the server while fio writes and verifies through a window on
// host A: the supervisor's next server answers, fio sees no error, and host
// B reads what fio wrote.
TEST_F(GlusterTest, FioVerifyPassesWhileTheServerOnHostAIsKilled) {
    make_file(32 << 20);
    host_a_mapfs = mount_host(host_a, "a", "access=write");
    ASSERT_TRUE(host_a_mapfs->live());
    std::atomic<int> takeovers{0};
    std::thread killer([&] {
        for (int i = 0; i < 3; ++i) {
            std::this_thread::sleep_for(1500ms);
            const pid_t old = host_a_mapfs->server_pid();
            if (old <= 0 || old == host_a_mapfs->pid() || ::kill(old, SIGKILL) != 0) continue;
            for (int wait = 0; wait < 2000; ++wait) {
                const pid_t now = host_a_mapfs->server_pid();
                if (now > 0 && now != old) { ++takeovers; break; }
                std::this_thread::sleep_for(10ms);
            }
        }
    });
    const CommandResult fio = run("fio --name=verify --filename=" + quote((dir / "a/w").string()) +
                                      " --rw=randwrite --bs=4k --numjobs=2 --size=16M --offset_increment=16M --fsync=64"
                                      " --verify=crc32c --verify_backlog=64 --verify_fatal=1 --verify_state_save=0"
                                      " --time_based --runtime=6 --group_reporting --output-format=json --output=fio.json",
                                  dir.path());
    killer.join();
    EXPECT_EQ(takeovers.load(), 3) << host_a_mapfs->log();
    const std::string report = read_file(dir / "fio.json");
    ASSERT_EQ(fio.status, 0) << fio.output << report;
    EXPECT_NE(report.find("\"error\" : 0"), std::string::npos) << report;
    // Everything fio wrote is on the volume: host B's own mount agrees.
    ok("sync " + quote((dir / "a/w").string()));
    EXPECT_EQ(sha256_of_range(dir / "a/w", 0, 32 << 20), sha256_of_range(host_b / file(), 0, 32 << 20));
}

// A disk image on the volume: host A makes a file system on a partition
// window, host B checks it through its own partition window.
TEST_F(GlusterTest, PartitionWindowsOfAnImageOnTheVolume) {
    make_file(48 << 20);
    ok("sgdisk -Z " + quote((host_a / file()).string()) + " > /dev/null 2>&1; sgdisk -o -n 1:2048:+8M -c 1:boot "
       "-n 2:20480:+32M -c 2:root " + quote((host_a / file()).string()) + " > /dev/null");
    host_a_mapfs = mount_host(host_a, "a", "access=write,partitions");
    ASSERT_TRUE(host_a_mapfs->live());
    EXPECT_EQ(ok("ls " + quote((dir / "a/w").string()) + " | tr '\\n' ' '"), "p1 p2 ");
    ok("mkfs.ext4 -q -F " + quote((dir / "a/w/p2").string()) + " && dd if=/dev/urandom of=" +
       quote((dir / "a/w/p1").string()) + " bs=1M count=8 conv=notrunc,fsync status=none");
    host_b_mapfs = mount_host(host_b, "b", "access=read,partitions");
    ASSERT_TRUE(host_b_mapfs->live());
    const CommandResult check = run("e2fsck -fn " + quote((dir / "b/w/p2").string()));
    EXPECT_EQ(check.status, 0) << check.output;
    EXPECT_EQ(sha256_of_range(dir / "b/w/p1", 0, 8 << 20), sha256_of_range(dir / "a/w/p1", 0, 8 << 20));
    EXPECT_EQ(sha256_of_range(dir / "b/w/p2", 0, 32 << 20), sha256_of_range(host_a / file(), 20480 * 512, 32 << 20));
}

}  // namespace
}  // namespace mapfs::testing
