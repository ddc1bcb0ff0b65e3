// Reloads under load: handles on windows that a reload removed keep working
// and can be closed while reloads go on; unchanged windows stay what they
// were (name, inode, locked pages); a stop never waits for a reload stuck on
// the kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

class ReloadTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::filesystem::path config_path = dir / "mapfs.toml";

    void SetUp() override { disk = backing("disk.img", pattern_bytes(16 << 20, 23)); }

    std::string region() const { return "[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n"; }
    static std::string window(const std::string& name, std::uint64_t offset, std::uint64_t length,
                              const std::string& extra = "") {
        return "[[window]]\nname = \"" + name + "\"\nregion = \"d\"\noffset = " + std::to_string(offset) +
               "\nlength = " + std::to_string(length) + "\naccess = \"write\"\n" + extra;
    }

    // The daemon's count of reloads and whether the last one took effect.
    std::string reloads() {
        return python("import json\nr = json.load(open('.mapfs/status'))['reloads']\nprint(r['count'], r['last_accepted'])");
    }

    // Sends SIGHUP and waits until the status report counts one more reload.
    void reload_and_wait() {
        const std::string before = reloads();
        const int count = std::stoi(before);
        ASSERT_EQ(::kill(daemon->pid(), SIGHUP), 0);
        for (int i = 0; i < 500 && std::stoi(reloads()) <= count; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ASSERT_GT(std::stoi(reloads()), count) << "no reload happened";
    }

    std::uint64_t locked_kib() const {
        std::ifstream status("/proc/" + std::to_string(daemon->server_pid()) + "/status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6));
        return 0;
    }
};

// Sixty reloads, each replacing window "x", while four threads open, write,
// read, fstat, ftruncate and close "x" and one keeps opening the unchanged
// window "stable" by its name. Run under ASan in CI: a handle freed under a
// request would be caught there.
TEST_F(ReloadTest, HandlesOnReplacedWindowsWriteAndCloseWhileReloadsGoOn) {
    const std::string a = region() + window("stable", 0, 4096) + window("x", 8192, 65536);
    const std::string b = region() + window("stable", 0, 4096) + window("x", 8192, 65537);
    dir.write_file("a.toml", a);
    dir.write_file("b.toml", b);
    std::filesystem::copy_file(dir / "a.toml", config_path);
    mount_args({config_path.string(), mnt.string()});
    const std::string output = python(R"(
import json, shutil, signal, threading
pid, a, b, config = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
done = threading.Event()
errors, stable_missing, x_missing = [], [0], [0]
def reloads():
    return json.load(open(".mapfs/status"))["reloads"]["count"]
def reloader():
    try:
        for i in range(60):
            shutil.copyfile(b if i % 2 == 0 else a, config + ".new"); os.rename(config + ".new", config)
            before = reloads()
            os.kill(pid, signal.SIGHUP)
            deadline = time.time() + 10
            while reloads() == before and time.time() < deadline: time.sleep(0.002)
    finally:
        done.set()
def worker(n):
    while not done.is_set():
        try:
            fd = os.open("x", os.O_RDWR)
        except FileNotFoundError:
            x_missing[0] += 1  # a name cached just before "x" changed
            continue
        try:
            for i in range(8):
                os.pwrite(fd, b"worker %d round %d" % (n, i), 4096 * i + n * 32)
                os.pread(fd, 64, 4096 * i)
            size = os.fstat(fd).st_size
            os.ftruncate(fd, size)
        except OSError as e:
            errors.append(repr(e))
        finally:
            os.close(fd)
def opener():
    while not done.is_set():
        try:
            os.close(os.open("stable", os.O_RDONLY))
        except FileNotFoundError:
            stable_missing[0] += 1
threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)] + [threading.Thread(target=opener), threading.Thread(target=reloader)]
for t in threads: t.start()
for t in threads: t.join()
print("reloads", reloads(), "errors", errors[:3], "stable missing", stable_missing[0])
)", {std::to_string(daemon->pid()), (dir / "a.toml").string(), (dir / "b.toml").string(), config_path.string()});
    EXPECT_EQ(output, "reloads 60 errors [] stable missing 0\n");
    EXPECT_EQ(ok("stat -c %s mnt/x"), "65536\n");
    EXPECT_NE(daemon->log().find("reloaded"), std::string::npos);
}

// A window that a reload leaves as it was keeps its inode number and its
// mapping; a handle on a replaced window answers fstat and ftruncate as its
// own window, not as the new one.
TEST_F(ReloadTest, UnchangedWindowsKeepTheirInodeAndOldHandlesAnswerAsTheirWindow) {
    dir.write_file("mapfs.toml", region() + window("stable", 0, 4096) + window("x", 8192, 4096));
    mount_args({config_path.string(), mnt.string()});
    const std::string stable_inode = ok("stat -c %i mnt/stable");
    const std::string x_inode = ok("stat -c %i mnt/x");
    dir.write_file("new.toml", region() + window("stable", 0, 4096) + window("x", 8192, 8192));
    const std::string output = python(R"(
import signal
fd = os.open("x", os.O_RDWR)
os.rename(sys.argv[2], sys.argv[3])
os.kill(int(sys.argv[1]), signal.SIGHUP)
deadline = time.time() + 10
while os.stat("x").st_size != 8192 and time.time() < deadline: time.sleep(0.01)
os.ftruncate(fd, 4096)
print(os.fstat(fd).st_size, os.stat("x").st_size)
try:
    os.ftruncate(fd, 8192)
except OSError as e:
    print(errno.errorcode[e.errno])
os.close(fd)
)", {std::to_string(daemon->pid()), (dir / "new.toml").string(), config_path.string()});
    EXPECT_EQ(output, "4096 8192\nEINVAL\n");
    EXPECT_EQ(ok("stat -c %i mnt/stable"), stable_inode);
    EXPECT_NE(ok("stat -c %i mnt/x"), x_inode);
}

// A locked window that a reload leaves as it was keeps its locked pages: the
// reload must not need RLIMIT_MEMLOCK for them a second time.
TEST_F(ReloadTest, AnUnchangedLockedWindowIsNotLockedTwice) {
    const std::string locked = window("hot", 1 << 20, 4 << 20, "pages = \"lock\"\n");
    dir.write_file("mapfs.toml", region() + locked);
    // Without CAP_IPC_LOCK root is held to RLIMIT_MEMLOCK like anyone: 6 MiB
    // fits the 4 MiB window once, not twice.
    mount_args({config_path.string(), mnt.string()}, {},
               {"setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "prlimit", "--memlock=6291456:6291456"});
    EXPECT_GE(locked_kib(), 4096u);
    dir.write_file("mapfs.toml", region() + locked + window("cold", 0, 4096));
    ASSERT_NO_FATAL_FAILURE(reload_and_wait());
    EXPECT_EQ(reloads(), "1 True\n") << daemon->log();
    EXPECT_GE(locked_kib(), 4096u);
    EXPECT_LT(locked_kib(), 6144u);
    EXPECT_EQ(ok("stat -c %s mnt/cold"), "4096\n");
}

// The same limit counts every new locked window together: two windows that
// each fit are refused when both do not, before either is locked.
TEST_F(ReloadTest, NewLockedWindowsAreCheckedTogether) {
    dir.write_file("mapfs.toml", region() + window("a", 0, 4096));
    mount_args({config_path.string(), mnt.string()}, {},
               {"setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "prlimit", "--memlock=6291456:6291456"});
    dir.write_file("mapfs.toml", region() + window("a", 0, 4096) + window("l1", 1 << 20, 4 << 20, "pages = \"lock\"\n") +
                                     window("l2", 8 << 20, 4 << 20, "pages = \"lock\"\n"));
    ASSERT_NO_FATAL_FAILURE(reload_and_wait());
    EXPECT_EQ(reloads(), "1 False\n");
    EXPECT_NE(daemon->log().find("windows \"l1\", \"l2\": cannot lock their 8MiB together: RLIMIT_MEMLOCK is 6MiB"),
              std::string::npos) << daemon->log();
    EXPECT_LT(locked_kib(), 1024u) << "a window was locked before the check";
    EXPECT_EQ(ok("ls mnt"), "a\n");
}

// SIGTERM while a reload is stuck: the new configuration names a file on a
// FUSE mount whose daemon is stopped (SIGSTOP), so the reload waits on the
// kernel for ever. mapfs must still unmount and exit within seconds.
TEST_F(ReloadTest, StopIsNotHeldUpByAReloadStuckOnTheKernel) {
    const std::filesystem::path inner_mnt = dir / "inner";
    std::filesystem::create_directory(inner_mnt);
    const auto inner_file = backing("inner.img", pattern_bytes(1 << 20, 3));
    // /dev/fuse: a request for a ring is copied into it at once, stopped
    // server or not, and so is never one the kernel may drop on a signal.
    MountedMapfs inner({inner_file.string(), inner_mnt.string(), "-o", "nosupervisor,transport=dev"}, inner_mnt,
                       dir / "inner.log");
    ASSERT_TRUE(inner.live()) << inner.log();
    dir.write_file("mapfs.toml", region() + window("a", 0, 4096));
    mount_args({config_path.string(), mnt.string()});
    dir.write_file("mapfs.toml", region() + window("a", 0, 4096) + "[[region]]\nname = \"stuck\"\nfile = \"" +
                                     (inner_mnt / "inner.img").string() +
                                     "\"\n[[window]]\nname = \"s\"\nregion = \"stuck\"\naccess = \"read\"\n");
    ASSERT_EQ(::kill(inner.pid(), SIGSTOP), 0);
    // Every thread stopped: none can read the reload's request first (the
    // kernel would then wait for its answer past any signal, exit included).
    const std::string tasks = "/proc/" + std::to_string(inner.pid()) + "/task/";
    for (int i = 0; i < 500; ++i) {
        if (run("for t in " + tasks + "*; do cut -d' ' -f3 $t/stat; done | grep -qv '^t$\\|^T$'").status != 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(::kill(daemon->pid(), SIGHUP), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the reload is waiting on `inner` now
    const auto stopped_at = std::chrono::steady_clock::now();
    const pid_t pid = daemon->pid();
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    const int status = daemon->wait_for_exit(15000);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
    if (status == -1) {
        ADD_FAILURE() << "still running; its threads:\n"
                      << run("for p in " + std::to_string(pid) + " $(cat /proc/" + std::to_string(pid) +
                             "/task/*/children); do for t in /proc/$p/task/*; do echo $t; cat $t/comm $t/stack; done; done")
                             .output;
    }
    ::kill(inner.pid(), SIGCONT);
    EXPECT_EQ(status, 0) << daemon->log();
    EXPECT_LT(seconds, 8.0) << daemon->log();
    EXPECT_FALSE(is_mounted(mnt));
}

}  // namespace
}  // namespace mapfs::testing
