// Which transport carries the requests, and that io_uring carries them
// right. The io_uring tests turn the kernel's enable_uring on (root) and
// put the old value back, whatever happens; where the kernel has no
// io_uring for FUSE they are skipped, saying why.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "base/unique_fd.hpp"
#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

const char* const enable_uring = "/sys/module/fuse/parameters/enable_uring";

// Sets enable_uring for the test's life and puts the old value back. The
// suite runs twice at once (meson's mount and passthrough suites): a lock
// held for the test's life keeps one test's old value from being another's
// setting.
class UringSwitch {
public:
    explicit UringSwitch(bool on) : lock_(::open("/tmp/mapfs-tests-enable-uring.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666)) {
        if (lock_.valid()) ::flock(lock_.get(), LOCK_EX);
        std::ifstream current(enable_uring);
        if (!(current >> old_)) return;
        std::ofstream set(enable_uring);
        set << (on ? "Y" : "N") << "\n";
        set.flush();
        available_ = static_cast<bool>(set);
    }
    ~UringSwitch() {
        if (old_.empty()) return;
        std::ofstream back(enable_uring);
        back << old_ << "\n";
    }
    bool available() const noexcept { return available_; }

private:
    UniqueFd lock_;  // released after the old value is back
    std::string old_;
    bool available_ = false;
};

class TransportTest : public MountTest {
protected:
    std::string status_field(const std::string& field) {
        return python("import json\nprint(json.load(open('.mapfs/status'))[sys.argv[1]])", {field});
    }
};

TEST_F(TransportTest, OffInTheKernelMeansDevFuseAndTheLogSaysHowToTurnItOn) {
    UringSwitch off(false);
    if (!off.available()) GTEST_SKIP() << "this kernel has no " << enable_uring;
    mount_args({"-w", "a:anon,size=4096", mnt.string(), "-o", "transport=uring"});
    ok("cat mnt/a > /dev/null");
    EXPECT_EQ(status_field("transport"), "/dev/fuse\n");
    EXPECT_NE(daemon->log().find("requests come through /dev/fuse, not io_uring: it is off in the kernel (as root: echo Y > "
                                 "/sys/module/fuse/parameters/enable_uring"),
              std::string::npos)
        << daemon->log();
}

// With a supervisor keeping the mount for a takeover, auto stays on
// /dev/fuse: the kernel resends only what was read from there.
TEST_F(TransportTest, AutoStaysOnDevFuseWhileTheMountIsKeptForATakeover) {
    if (!forced_transport().empty()) GTEST_SKIP() << "this run gives every mount transport=" << forced_transport();
    UringSwitch on(true);
    if (!on.available()) GTEST_SKIP() << "this kernel has no " << enable_uring;
    mount_args({"-w", "a:anon,size=4096", mnt.string()});
    ok("cat mnt/a > /dev/null");
    EXPECT_EQ(status_field("transport"), "/dev/fuse\n");
    EXPECT_EQ(status_field("failover"), "supervisor\n");
    EXPECT_NE(daemon->log().find("the mount is kept for a takeover, and the kernel resends only requests read from /dev/fuse"),
              std::string::npos)
        << daemon->log();
}

class UringTest : public TransportTest {
protected:
    std::unique_ptr<UringSwitch> uring = std::make_unique<UringSwitch>(true);

    void SetUp() override {
        if (!uring->available()) GTEST_SKIP() << "this kernel has no " << enable_uring;
    }

    // An 8 MiB read window "w" over io_uring, where this process may run
    // on CPUs 0 and 1; `server` is its server's pid, or 0 when the test was
    // skipped or failed. Served by mapfs: passed through, reads would never
    // reach a ring.
    void mount_read_window_on_two_cpus(pid_t& server) {
        server = 0;
        cpu_set_t allowed;
        if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed))
            GTEST_SKIP() << "needs CPUs 0 and 1";
        backing("disk.img", pattern_bytes(8 << 20, 6));
        mount_uring({"-w", "w:file=" + (dir / "disk.img").string() + ",access=read,cache=none,passthrough=off"});
        if (IsSkipped() || HasFatalFailure()) return;
        server = daemon->server_pid();
        ASSERT_GT(server, 0);
    }

    void mount_uring(const std::vector<std::string>& windows) {
        std::vector<std::string> arguments = windows;
        arguments.insert(arguments.end(), {mnt.string(), "-o", "transport=uring"});
        mount_args(arguments);
        if (status_field("transport") != "io_uring\n")
            GTEST_SKIP() << "the kernel did not serve this mount through io_uring; log:\n" << daemon->log();
    }
};

TEST_F(UringTest, ReadsWritesAndMappingsGoThroughTheRings) {
    backing("disk.img", pattern_bytes(8 << 20, 5));
    mount_uring({"-w", "w:file=" + (dir / "disk.img").string() + ",access=write,cache=none", "-w",
                 "c:file=" + (dir / "disk.img").string() + ",access=read", "-w", "m:anon,size=1MiB"});
    EXPECT_EQ(status_field("failover"), "none\n");
    EXPECT_NE(daemon->log().find("requests come through io_uring"), std::string::npos) << daemon->log();
    const long before = std::stol(status_field("ring_requests"));
    ok("cmp mnt/w disk.img && cmp mnt/c disk.img");
    // 16 MiB in reads of at most 1 MiB: at least 16 requests on the rings.
    EXPECT_GE(std::stol(status_field("ring_requests")), before + 16);
    ok("head -c 3M /dev/urandom > chunk && dd if=chunk of=mnt/w bs=1M seek=2 conv=notrunc,fsync status=none");
    ok("dd if=disk.img bs=1M skip=2 count=3 status=none | cmp - chunk");
    ok("dd if=mnt/w bs=1M skip=2 count=3 status=none | cmp - chunk");
    const std::string output = python(R"(
m = mmap.mmap(os.open('m', os.O_RDWR), 1 << 20)
m[4096:4101] = b'rings'
m.flush()
print(os.pread(os.open('m', os.O_RDONLY), 5, 4096), sorted(os.listdir('.')))
)");
    EXPECT_EQ(output, "b'rings' ['c', 'm', 'w']\n");
    // Errors travel back through the ring too.
    EXPECT_NE(run("printf x > mnt/c").status, 0);
    EXPECT_NE(run("cat mnt/nothing").output.find("No such file"), std::string::npos);
}

TEST_F(UringTest, FioVerifiesRandomReadsAndWritesFromFourJobs) {
    ok("truncate -s 64M disk.img");
    mount_uring({"-w", "w:file=" + (dir / "disk.img").string() + ",access=write,cache=none"});
    const CommandResult fio = run("fio --name=verify --filename=" + quote(at("w").string()) +
                                  " --rw=randrw --bs=4k --numjobs=4 --size=16M --offset_increment=16M --direct=1"
                                  " --verify=crc32c --verify_fatal=1 --verify_state_save=0 --group_reporting 2>&1 | grep -E 'err=|verify'",
                                  dir.path());
    EXPECT_EQ(fio.status, 0) << fio.output;
    EXPECT_NE(fio.output.find("err= 0"), std::string::npos) << fio.output;
    EXPECT_EQ(status_field("transport"), "io_uring\n");
}

// Each CPU's queue is served by its two threads pinned there while the
// requests are small; a large request frees its thread (a reader's
// readahead would otherwise be copied on the reader's CPU alone), and the
// next small one pins it again. Counted while the reader (on CPU 0) still
// has the file open: its FLUSH and RELEASE are small requests too.
// Reads into a page-aligned buffer, as dd's: an unaligned 1 MiB read
// comes as a large request and a small one.
TEST_F(UringTest, SmallRequestsAreServedOnTheCallersCpuLargeOnesAnywhere) {
    pid_t server = 0;
    mount_read_window_on_two_cpus(server);
    if (server <= 0) return;
    const std::string output = python(R"(
import glob
def pinned(cpu):
    count = 0
    for status in glob.glob('/proc/%s/task/*/status' % sys.argv[1]):
        for line in open(status):
            if line.split() == ['Cpus_allowed_list:', str(cpu)]:
                count += 1
    return count
os.sched_setaffinity(0, {0})
print('start', pinned(0), pinned(1))
fd = os.open('w', os.O_RDONLY)
page_aligned = mmap.mmap(-1, 1 << 20)  # else the kernel splits off a small tail request
for i in range(4):
    assert os.preadv(fd, [page_aligned], i << 20) == 1 << 20
print('after 1 MiB reads', pinned(0), pinned(1))
for i in range(64):
    assert len(os.pread(fd, 4096, i << 12)) == 4096
print('after 4 KiB reads', pinned(0), pinned(1))
)", {std::to_string(server)});
    std::istringstream lines(output);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "start 2 2");
    std::getline(lines, line);
    EXPECT_TRUE(line == "after 1 MiB reads 1 2" || line == "after 1 MiB reads 0 2") << line;
    std::getline(lines, line);
    EXPECT_TRUE(line == "after 4 KiB reads 1 2" || line == "after 4 KiB reads 2 2") << line;
}

// An administrator confines the server to CPU 0 (taskset, as a cpuset of
// the service would): the ring threads of CPU 1's queue, unpinned for a
// large request and pinned again for a small one, keep to CPU 0; the mask
// they had at start (both CPUs) is not put back.
TEST_F(UringTest, AnAffinityTheServerWasGivenSinceItStartedIsKept) {
    pid_t server = 0;
    mount_read_window_on_two_cpus(server);
    if (server <= 0) return;
    ok("taskset -a -p 1 " + std::to_string(server) + " > /dev/null");
    const std::string output = python(R"(
import glob
os.sched_setaffinity(0, {1})
fd = os.open('w', os.O_RDONLY)
page_aligned = mmap.mmap(-1, 1 << 20)
for i in range(4):
    assert os.preadv(fd, [page_aligned], i << 20) == 1 << 20
for i in range(64):
    assert len(os.pread(fd, 4096, i << 12)) == 4096
masks = set()
for status in glob.glob('/proc/%s/task/*/status' % sys.argv[1]):
    for line in open(status):
        if line.startswith('Cpus_allowed_list:'):
            masks.add(line.split()[1])
print(sorted(masks))
)", {std::to_string(server)});
    EXPECT_EQ(output, "['0']\n") << "a ring thread went back to a CPU the server was taken off";
}

// A ring entry the kernel reports failed (a preload turns a completion into
// -EINVAL) leaves a request nobody will answer: mapfs says so and ends the
// mount, so its caller gets an error instead of waiting for ever.
TEST_F(UringTest, AFailedRingEntryEndsTheMountInsteadOfAWaitForEver) {
    const char* preload = std::getenv("MAPFS_TEST_URING_FAULT");
    if (preload == nullptr) GTEST_SKIP() << "MAPFS_TEST_URING_FAULT names no preload";
    backing("disk.img", pattern_bytes(1 << 20, 6));
    daemon = std::make_unique<MountedMapfs>(
        std::vector<std::string>{"-w", "w:file=" + (dir / "disk.img").string() + ",access=read,cache=none,passthrough=off",
                                 mnt.string(), "-o", "transport=uring"},
        mnt, dir / "mapfs.log",
        std::vector<std::string>{std::string("LD_PRELOAD=") + preload, "MAPFS_FAULT_URING_WHEN=" + (dir / "fail-now").string(),
                                 "ASAN_OPTIONS=verify_asan_link_order=0"});
    ASSERT_TRUE(daemon->live()) << daemon->log();
    if (status_field("transport") != "io_uring\n") GTEST_SKIP() << "the kernel did not serve this mount through io_uring";
    dir.write_file("fail-now", "");
    const CommandResult read = run("timeout 20 cat " + quote(at("w").string()) + " > /dev/null");
    EXPECT_NE(read.status, 124) << "the read waited for ever";
    EXPECT_NE(read.status, 0) << "the read the failed entry held cannot have succeeded";
    EXPECT_GE(daemon->wait_for_exit(10000), 0) << "mapfs went on serving without that entry";
    EXPECT_NE(daemon->log().find("an io_uring entry of queue"), std::string::npos) << daemon->log();
    EXPECT_FALSE(is_mounted(mnt));
}

// A slow request (a read faulting on a SIGSTOPped FUSE mount) holds one
// ring thread; the other thread of that CPU's queue answers the rest.
TEST_F(UringTest, ASlowRequestDoesNotHoldTheOthersBack) {
    const std::filesystem::path inner_mnt = dir / "inner";
    std::filesystem::create_directory(inner_mnt);
    const auto inner_file = backing("inner.img", pattern_bytes(65536, 9));
    MountedMapfs inner({inner_file.string(), inner_mnt.string(), "-o", "nosupervisor,transport=dev"}, inner_mnt,
                       dir / "inner.log");
    ASSERT_TRUE(inner.live()) << inner.log();
    mount_uring({"-w", "s:file=" + (inner_mnt / "inner.img").string() + ",access=read,cache=none", "-w", "a:anon,size=4096"});
    ASSERT_EQ(::kill(inner.pid(), SIGSTOP), 0);
    struct Resume {
        pid_t pid;
        ~Resume() { ::kill(pid, SIGCONT); }
    } resume{inner.pid()};
    CommandResult stuck;
    std::thread reading([&] { stuck = run("timeout 60 dd if=" + quote(at("s").string()) + " bs=4k count=1 status=none | wc -c"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Pinned to the CPU the stuck reader may be on, and to the other.
    const auto started = std::chrono::steady_clock::now();
    for (int cpu = 0; cpu < 2; ++cpu)
        EXPECT_EQ(run("timeout 10 taskset -c " + std::to_string(cpu) + " cat " + quote(at("a").string()) + " | wc -c").output,
                  "4096\n")
            << "cpu " << cpu;
    // Answered while the slow request still waits, not after it.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    ::kill(inner.pid(), SIGCONT);
    reading.join();
    EXPECT_EQ(stuck.output, "4096\n") << stuck.output;
    // The outer mount holds the inner one's file: it goes first.
    EXPECT_EQ(daemon->unmount(), 0);
}

// Over io_uring nothing keeps the mount for a takeover: when the server
// dies under its supervisor the dead mount goes at once (not left
// answering ENOTCONN) and a new server mounts it again; the log names the
// mount point.
TEST_F(UringTest, UnderTheSupervisorADeadServersMountIsDetachedAndMountedAgain) {
    mount_uring({"-w", "a:anon,size=4096"});
    ok("printf before > mnt/a");
    const pid_t server = daemon->server_pid();
    ASSERT_GT(server, 0);
    ASSERT_NE(server, daemon->pid()) << "a supervisor runs the server";
    ASSERT_EQ(::kill(server, SIGKILL), 0);
    pid_t fresh = -1;
    for (int i = 0; i < 500 && (fresh <= 0 || fresh == server); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        fresh = MountedMapfs::server_pid_of(mnt);
    }
    EXPECT_GT(fresh, 0) << daemon->log();
    EXPECT_NE(fresh, server);
    EXPECT_EQ(ok("ls mnt"), "a\n");
    std::size_t mounts = 0;
    for (std::ifstream mountinfo("/proc/self/mountinfo"); !mountinfo.eof();) {
        std::string line;
        std::getline(mountinfo, line);
        if (line.find(" " + mnt.string() + " ") != std::string::npos) ++mounts;
    }
    EXPECT_EQ(mounts, 1u) << "the dead mount was left under the new one";
    EXPECT_NE(daemon->log().find("the mount on " + mnt.string() + " is detached and mounted again"), std::string::npos)
        << daemon->log();
}

}  // namespace
}  // namespace mapfs::testing
