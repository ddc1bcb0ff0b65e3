// A window's `pages` mode (lazy, populate, lock) and the huge-page advice on
// anonymous regions, checked in the kernel's own accounts: page cache
// residency (mincore), the daemon's locked memory (VmLck) and its mappings'
// flags (smaps).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

constexpr std::size_t window_offset = 1 << 20;
constexpr std::size_t window_length = 8 << 20;

class PagesTest : public MountTest {
protected:
    // What is measured is the backing file's page cache, which only a disk
    // file system lets go of (tmpfs pages are the file).
    PagesTest() : MountTest(Storage::disk) {}

    std::filesystem::path disk;

    // A 16 MiB file written to disk and dropped from the page cache, so
    // that only mapfs can bring the window's pages back.
    void make_cold_disk() {
        disk = backing("disk.img", pattern_bytes(16 << 20, 7));
        const int fd = ::open(disk.c_str(), O_RDONLY);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::fsync(fd), 0);
        ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
        ::close(fd);
        ASSERT_LT(resident_fraction(), 0.1) << "the page cache did not let go of the test file";
    }

    // Fraction of the window's bytes of the backing file in the page cache.
    double resident_fraction() const {
        const int fd = ::open(disk.c_str(), O_RDONLY);
        void* map = ::mmap(nullptr, window_length, PROT_READ, MAP_SHARED, fd, window_offset);
        ::close(fd);
        if (map == MAP_FAILED) return -1;
        const std::size_t pages = window_length / 4096;
        std::vector<unsigned char> residency(pages);
        ::mincore(map, window_length, residency.data());
        ::munmap(map, window_length);
        std::size_t resident = 0;
        for (const unsigned char page : residency) resident += page & 1;
        return static_cast<double>(resident) / static_cast<double>(pages);
    }

    std::string window_spec(const std::string& pages, const std::string& access = "read") const {
        return "w:file=" + disk.string() + ",offset=1MiB,length=8MiB,access=" + access + ",pages=" + pages;
    }

    std::string daemon_status_field(const std::string& field) const {
        std::ifstream status("/proc/" + std::to_string(daemon->server_pid()) + "/status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind(field + ":", 0) == 0) return line;
        return "";
    }

    std::uint64_t locked_kib() const {
        std::istringstream line(daemon_status_field("VmLck"));
        std::string name;
        std::uint64_t kib = 0;
        line >> name >> kib;
        return kib;
    }
};

TEST_F(PagesTest, LazyLeavesTheWindowOnDiskUntilRead) {
    ASSERT_NO_FATAL_FAILURE(make_cold_disk());
    ASSERT_NO_FATAL_FAILURE(mount_args({"-w", window_spec("lazy"), mnt.string()}));
    EXPECT_LT(resident_fraction(), 0.1);
    EXPECT_EQ(locked_kib(), 0u);
}

TEST_F(PagesTest, PopulateBringsEveryPageInBeforeTheMountIsReady) {
    ASSERT_NO_FATAL_FAILURE(make_cold_disk());
    ASSERT_NO_FATAL_FAILURE(mount_args({"-w", window_spec("populate", "write"), mnt.string()}));
    EXPECT_DOUBLE_EQ(resident_fraction(), 1.0);
    EXPECT_EQ(locked_kib(), 0u);
    // Faulted in for reading: populating marks nothing dirty in the file.
    EXPECT_EQ(sha256_of_range(at("w"), 0, window_length), sha256_of_range(disk, window_offset, window_length));
}

TEST_F(PagesTest, LockKeepsTheWindowsPagesLockedInTheDaemon) {
    ASSERT_NO_FATAL_FAILURE(make_cold_disk());
    ASSERT_NO_FATAL_FAILURE(mount_args({"-w", window_spec("lock", "copy"), mnt.string()}));
    EXPECT_DOUBLE_EQ(resident_fraction(), 1.0);
    EXPECT_GE(locked_kib(), window_length / 1024);
    EXPECT_NE(ok("cat mnt/.mapfs/status").find("\"pages\": \"lock\""), std::string::npos);
}

// Without -f mapfs forks into the background, and a child does not inherit
// memory locks: the daemon must lock its windows again.
TEST_F(PagesTest, LockSurvivesGoingToTheBackground) {
    ASSERT_NO_FATAL_FAILURE(make_cold_disk());
    const CommandResult started = run(quote(mapfs_binary()) + " -w " + quote(window_spec("lock")) + " " + quote(mnt.string()));
    ASSERT_EQ(started.status, 0) << started.output;
    // Find the daemon by its mount point in /proc (read only; it is stopped by unmounting).
    pid_t pid = -1;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        std::ifstream cmdline(entry.path() / "cmdline");
        const std::string arguments((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
        if (arguments.find(mnt.string()) != std::string::npos && arguments.find("pages=lock") != std::string::npos)
            pid = std::stoi(name);
    }
    // The background process locks again right after it forked: give it a moment.
    std::uint64_t locked = 0;
    for (int i = 0; i < 250 && pid > 0 && locked < window_length / 1024; ++i) {
        std::ifstream status("/proc/" + std::to_string(pid) + "/status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("VmLck:", 0) == 0) locked = std::stoull(line.substr(6));
        if (locked < window_length / 1024) ::usleep(20000);
    }
    run("fusermount3 -u " + quote(mnt.string()));
    for (int i = 0; i < 100 && pid > 0 && ::kill(pid, 0) == 0; ++i) ::usleep(50000);
    if (pid > 0 && ::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    ASSERT_GT(pid, 0) << "no background mapfs found for " << mnt;
    EXPECT_GE(locked, window_length / 1024);
}

TEST_F(PagesTest, LockBeyondTheMemlockLimitFailsWithTheLimitNamed) {
    ASSERT_NO_FATAL_FAILURE(make_cold_disk());
    // Without CAP_IPC_LOCK root is held to RLIMIT_MEMLOCK like anyone.
    const CommandResult result = run("timeout 20 setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock "
                                     "prlimit --memlock=1048576:1048576 " + quote(mapfs_binary()) + " -f -w " +
                                     quote(window_spec("lock")) + " " + quote(mnt.string()));
    // 3: the machine refuses what the configuration asks; the unit does not
    // restart it (RestartPreventExitStatus=), since a restart cannot help.
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("window \"w\": cannot lock its 8MiB"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("RLIMIT_MEMLOCK is 1MiB"), std::string::npos) << result.output;
    EXPECT_FALSE(is_mounted(mnt));
}

// Locks follow the windows that asked for them: a reload that turns window
// "a" from lock to lazy while window "b" keeps the region lets a's pages
// go, and a reload back to lock counts them once against RLIMIT_MEMLOCK
// (6 MiB here, root without CAP_IPC_LOCK): they are not locked twice.
// Two lock windows over the same pages keep them locked until both go.
TEST_F(PagesTest, LocksFollowTheWindowsAcrossReloadsAndCountOnce) {
    ASSERT_NO_FATAL_FAILURE(make_cold_disk());
    const auto config = [&](const std::string& a_pages, bool overlap) {
        std::string text = "[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n"
                           "[[window]]\nname = \"a\"\nregion = \"d\"\nlength = \"4MiB\"\naccess = \"read\"\npages = \"" +
                           a_pages + "\"\n"
                           "[[window]]\nname = \"b\"\nregion = \"d\"\noffset = \"8MiB\"\nlength = \"1MiB\"\naccess = \"read\"\n";
        if (overlap)
            text += "[[window]]\nname = \"a2\"\nregion = \"d\"\noffset = \"1MiB\"\nlength = \"2MiB\"\naccess = \"read\"\n"
                    "pages = \"lock\"\n";
        return text;
    };
    const auto file = dir.write_file("mapfs.toml", config("lock", false));
    ASSERT_NO_FATAL_FAILURE(mount_args({file.string(), mnt.string()}, {},
                                       {"setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "prlimit",
                                        "--memlock=6291456:6291456"}));
    const std::string reload = quote(mapfs_binary()) + " reload " + quote(mnt.string());
    EXPECT_EQ(locked_kib(), 4096u);
    dir.write_file("mapfs.toml", config("lazy", false));
    ok(reload);
    EXPECT_EQ(locked_kib(), 0u) << "a's pages stayed locked after it became lazy";
    dir.write_file("mapfs.toml", config("lock", false));
    ok(reload);
    EXPECT_EQ(locked_kib(), 4096u);
    dir.write_file("mapfs.toml", config("lock", true));
    ok(reload);
    EXPECT_EQ(locked_kib(), 4096u) << "a2's pages are a's: locked once";
    dir.write_file("mapfs.toml", config("lazy", true));
    ok(reload);
    EXPECT_EQ(locked_kib(), 2048u) << "a2 still locks its 2 MiB";
}

// Populating anonymous memory larger than the machine would end in the OOM
// killer: refused before a page is touched.
TEST_F(PagesTest, PopulatingMoreThanTheMachinesMemoryIsRefused) {
    const CommandResult result = run("timeout 20 " + quote(mapfs_binary()) + " -f -w " +
                                     quote("big:anon,size=1TiB,access=write,pages=populate") + " " + quote(mnt.string()));
    EXPECT_EQ(result.status, 3) << result.output;
    EXPECT_NE(result.output.find("window \"big\": cannot populate its 1TiB: more than this machine's memory"),
              std::string::npos) << result.output;
    EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(PagesTest, UnknownPageModeIsAConfigurationError) {
    disk = backing("disk.img", pattern_bytes(1 << 20, 7));
    const CommandResult result = run(quote(mapfs_binary()) + " -f -w " + quote("w:file=" + disk.string() + ",pages=pinned") +
                                     " " + quote(mnt.string()));
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("unknown page mode \"pinned\" (use lazy, populate or lock)"), std::string::npos)
        << result.output;
}

// The advice shows as "hg" in the mapping's VmFlags whether or not the
// machine's shmem_enabled setting lets the kernel act on it.
TEST_F(PagesTest, AnonymousRegionsAreAdvisedToUseHugePages) {
    ASSERT_NO_FATAL_FAILURE(mount_args({"-w", "scratch:anon,size=8MiB,access=write", mnt.string()}));
    ok("dd if=/dev/zero of=mnt/scratch bs=1M count=8 conv=notrunc status=none");
    std::ifstream smaps("/proc/" + std::to_string(daemon->server_pid()) + "/smaps");
    std::string line;
    bool in_memfd = false;
    int advised = 0;
    while (std::getline(smaps, line)) {
        if (line.find("-") != std::string::npos && line.find(" rw-s ") != std::string::npos) in_memfd = line.find("memfd:") != std::string::npos;
        if (in_memfd && line.rfind("VmFlags:", 0) == 0 && line.find(" hg") != std::string::npos) ++advised;
    }
    EXPECT_GE(advised, 1) << "no memfd mapping of the daemon carries the hugepage advice";
}

}  // namespace
}  // namespace mapfs::testing
