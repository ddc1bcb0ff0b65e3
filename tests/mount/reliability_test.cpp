// Faults surface as errors, committed data survives, stops are clean.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

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
        mount_args({disk.string(), mnt.string(), "-w", "p:offset=12345,length=2MiB,access=write"});
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

TEST_F(DurabilityTest, AStaleMountPointIsReportedAndCanBeDetached) {
    kill_daemon();
    const CommandResult refused = run(quote(mapfs_binary()) + " -f disk.img mnt", dir.path());
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_NE(refused.output.find("Transport endpoint is not connected"), std::string::npos) << refused.output;
    EXPECT_NE(refused.output.find("detach_stale"), std::string::npos) << refused.output;
    daemon.reset();  // reaped already; the stale mount is still there
    mount_args({disk.string(), mnt.string(), "-o", "detach_stale"});
    ok("cmp disk.img " + quote(at("disk.img").string()));
    EXPECT_EQ(daemon->unmount(), 0);
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
