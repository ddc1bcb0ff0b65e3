// Data through real tools: cat, dd, cp, cmp, sha256sum, Python's mmap.
#include <gtest/gtest.h>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

constexpr std::uint64_t backing_size = 8 * 1024 * 1024;
constexpr std::uint64_t p1_offset = 12345;  // not page-aligned on purpose
constexpr std::uint64_t p1_length = 3 * 1024 * 1024 + 77;

class IoTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::string original = pattern_bytes(backing_size, 1);

    void SetUp() override {
        disk = backing("disk.img", original);
        mount_config(R"(
[[region]]
name = "disk"
file = ")" + disk.string() + R"("

[[window]]
name = "disk/p1"
region = "disk"
offset = 12345
length = )" + std::to_string(p1_length) + R"(
access = "write"

[[window]]
name = "overlap"
region = "disk"
offset = "1MiB"
length = "4MiB"
access = "write"

[[window]]
name = "whole"
region = "disk"
access = "read"

[[window]]
name = "scratch"
region = "disk"
offset = 12345
length = )" + std::to_string(p1_length) + R"(
access = "copy"
)");
    }

    std::string window_sha(const std::string& name) {
        return run("sha256sum " + quote(at(name).string()) + " | cut -d' ' -f1").output;
    }
};

TEST_F(IoTest, CatShowsTheBackingFileByteRange) {
    const std::string shown = ok("cat " + quote(at("disk/p1").string()));
    EXPECT_EQ(shown.size(), p1_length);
    EXPECT_TRUE(shown == original.substr(p1_offset, p1_length)) << "cat of disk/p1 differs from disk.img[12345, +len)";
    EXPECT_EQ(window_sha("whole"), sha256_of_range(disk, 0, backing_size));
    ok("cmp " + quote(at("whole").string()) + " disk.img");
}

TEST_F(IoTest, DdReadsWithEveryBlockSizeAndSkip) {
    for (const std::string bs : {"1", "512", "4096", "65536", "1M", "4M"}) {
        const std::string count = bs == "1" ? "5000" : "3";
        const std::string through_mount = ok("dd if=" + quote(at("disk/p1").string()) + " bs=" + bs + " skip=2 count=" +
                                             count + " status=none | sha256sum");
        const std::string direct = ok("dd if=disk.img iflag=skip_bytes bs=" + bs + " skip=$((12345 + 2 * $(numfmt --from=iec " + bs +
                                      "))) count=" + count + " status=none | head -c $((" + std::to_string(p1_length) +
                                      " - 2 * $(numfmt --from=iec " + bs + "))) | sha256sum");
        EXPECT_EQ(through_mount, direct) << "dd bs=" << bs << " skip=2 through the mount";
    }
}

TEST_F(IoTest, DdWritesWithConvNotruncAndSeekLandInTheBackingFile) {
    std::string expected = original;
    for (const std::string bs : {"1", "4096", "65536", "1M"}) {
        const std::string data = pattern_bytes(bs == "1" ? 777 : 2 * std::stoul(ok("numfmt --from=iec " + bs)), bs.size() + 7);
        dir.write_file("chunk", data);
        const std::uint64_t seek_blocks = 1;
        const std::uint64_t block = std::stoul(ok("numfmt --from=iec " + bs));
        ok("dd if=chunk of=" + quote(at("disk/p1").string()) + " bs=" + bs + " seek=1 conv=notrunc status=none");
        expected.replace(p1_offset + seek_blocks * block, data.size(), data);
    }
    EXPECT_TRUE(read_file(disk) == expected) << "backing file does not hold what dd wrote through disk/p1";
    EXPECT_EQ(std::filesystem::file_size(disk), backing_size);
    EXPECT_EQ(std::filesystem::file_size(at("disk/p1")), p1_length);
}

TEST_F(IoTest, DdWithoutNotruncKeepsTheSize) {
    const std::string data = pattern_bytes(100000, 9);
    dir.write_file("chunk", data);
    ok("dd if=chunk of=" + quote(at("disk/p1").string()) + " bs=4096 status=none");
    std::string expected = original;
    expected.replace(p1_offset, data.size(), data);
    EXPECT_TRUE(read_file(disk) == expected);
    EXPECT_EQ(ok("stat -c %s " + quote(at("disk/p1").string())), std::to_string(p1_length) + "\n");
    // Without notrunc, dd seek= first asks for ftruncate to the seek offset:
    // refused (EINVAL) and reported by dd 9.1, which then writes anyway.
    const CommandResult seeked = run("dd if=chunk of=" + quote(at("disk/p1").string()) + " bs=4096 seek=3 status=none", dir.path());
    EXPECT_NE(seeked.output.find("failed to truncate"), std::string::npos) << seeked.output;
    EXPECT_NE(seeked.output.find("Invalid argument"), std::string::npos) << seeked.output;
    expected.replace(p1_offset + 3 * 4096, data.size(), data);
    EXPECT_EQ(std::filesystem::file_size(disk), backing_size);
    EXPECT_EQ(std::filesystem::file_size(at("disk/p1")), p1_length);
    EXPECT_TRUE(read_file(disk) == expected) << "the refused truncate changed the backing file";
}

TEST_F(IoTest, LargeDdWriteOf4MiBBlocksIsShortAtTheEnd) {
    const std::string data = pattern_bytes(8 * 1024 * 1024, 4);
    dir.write_file("big", data);
    const CommandResult result = run("dd if=big of=" + quote(at("disk/p1").string()) + " bs=4M conv=notrunc status=none", dir.path());
    EXPECT_NE(result.status, 0) << "writing 8 MiB into a 3 MiB window must end in ENOSPC";
    EXPECT_NE(result.output.find("No space left on device"), std::string::npos) << result.output;
    std::string expected = original;
    expected.replace(p1_offset, p1_length, data.substr(0, p1_length));
    EXPECT_TRUE(read_file(disk) == expected) << "the bytes that fit must be written, nothing past the window";
}

TEST_F(IoTest, CpIntoAWindowAndCmp) {
    const std::string data = pattern_bytes(p1_length, 5);
    dir.write_file("source", data);
    ok("cp source " + quote(at("disk/p1").string()));
    ok("cmp source " + quote(at("disk/p1").string()));
    EXPECT_EQ(sha256_of_range(disk, p1_offset, p1_length), ok("sha256sum < source | cut -d' ' -f1"));
    EXPECT_EQ(std::filesystem::file_size(disk), backing_size);
}

TEST_F(IoTest, WritesShowThroughOverlappingWindowsAndTheFile) {
    // disk/p1 covers [12345, 12345 + 3MiB + 77); overlap covers [1MiB, 5MiB).
    const std::string data = pattern_bytes(300000, 6);
    dir.write_file("chunk", data);
    const std::uint64_t seek = 2 * 1024 * 1024;  // file offset 2 MiB + 12345
    ok("dd if=chunk of=" + quote(at("disk/p1").string()) + " bs=1 oflag=seek_bytes seek=" + std::to_string(seek) +
       " conv=notrunc status=none");
    const std::uint64_t in_overlap = p1_offset + seek - 1024 * 1024;
    EXPECT_EQ(ok("dd if=" + quote(at("overlap").string()) + " iflag=skip_bytes,count_bytes skip=" + std::to_string(in_overlap) +
                 " count=300000 bs=64k status=none | sha256sum"),
              ok("sha256sum < chunk"));
    EXPECT_EQ(sha256_of_range(disk, p1_offset + seek, 300000), ok("sha256sum < chunk | cut -d' ' -f1"));
    EXPECT_EQ(sha256_of_range(at("whole"), p1_offset + seek, 300000), ok("sha256sum < chunk | cut -d' ' -f1"));
}

TEST_F(IoTest, CopyWindowWritesStayPrivate) {
    const std::string data = pattern_bytes(50000, 7);
    dir.write_file("chunk", data);
    ok("dd if=chunk of=" + quote(at("scratch").string()) + " bs=4096 seek=1 conv=notrunc status=none");
    EXPECT_EQ(ok("dd if=" + quote(at("scratch").string()) + " bs=4096 skip=1 count=50000 iflag=count_bytes status=none | sha256sum"),
              ok("sha256sum < chunk"));
    EXPECT_TRUE(read_file(disk) == original) << "a copy window's write reached the backing file";
    EXPECT_EQ(window_sha("disk/p1"), sha256_of_range(disk, p1_offset, p1_length)) << "a copy window's write reached another window";
}

TEST_F(IoTest, ShortReadAndEnospcAtTheEnd) {
    const std::string script = R"(
import os, errno
fd = os.open("mnt/disk/p1", os.O_RDWR)
n = )" + std::to_string(p1_length) + R"(
assert len(os.pread(fd, 100, n - 10)) == 10, "read straddling the end must be short"
assert os.pread(fd, 100, n) == b"", "read at the end must be empty"
assert os.pread(fd, 100, n + 4096) == b"", "read past the end must be empty"
assert os.pwrite(fd, b"x" * 100, n - 30) == 30, "write straddling the end must be short"
for offset in (n, n + 1, n + 1 << 20):
    try:
        os.pwrite(fd, b"y", offset)
        raise SystemExit("write at %d did not fail" % offset)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
print("ok")
)";
    dir.write_file("end.py", script);
    EXPECT_EQ(ok("python3 end.py"), "ok\n");
    std::string expected = original;
    expected.replace(p1_offset + p1_length - 30, 30, std::string(30, 'x'));
    EXPECT_TRUE(read_file(disk) == expected) << "the backing file past the window was touched";
}

class PythonMmapTest : public MountTest {
protected:
    std::filesystem::path text;
    // Known letters at the window's start; the window is unaligned.
    std::string original = std::string(100, '.') + "mapfs-python-client-sample-bytes-0123456789" + std::string(4000, '-');

    void SetUp() override {
        text = backing("text.bin", original);
        mount_config("[[region]]\nname = \"t\"\nfile = \"" + text.string() +
                     "\"\n[[window]]\nname = \"sample.txt\"\nregion = \"t\"\noffset = 100\nlength = 64\naccess = \"write\"\n");
    }
};

TEST_F(PythonMmapTest, TheIssueProgramPrintsTwoCharactersASliceThenIndexError) {
    dir.write_file("client.py", R"(import mmap
fileObject = open("sample.txt", "r+b")
memoryMap = mmap.mmap(fileObject.fileno(), 32)
print(chr(memoryMap[0])); print(chr(memoryMap[1])); print(memoryMap[2:5])
print(memoryMap[32])
)");
    const CommandResult result = run("python3 " + quote((dir / "client.py").string()), mnt);
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_EQ(result.output.substr(0, 15), "m\na\nb'pfs'\nTrac") << result.output;
    EXPECT_NE(result.output.find("IndexError: mmap index out of range"), std::string::npos) << result.output;
}

TEST_F(PythonMmapTest, StoresThroughTheClientMappingReachTheBackingFile) {
    dir.write_file("store.py", R"(import mmap
fileObject = open("sample.txt", "r+b")
memoryMap = mmap.mmap(fileObject.fileno(), 32)
memoryMap[0] = 65
memoryMap[31] = 66
memoryMap.flush()
memoryMap.close()
fileObject.close()
print("stored")
)");
    const CommandResult result = run("python3 " + quote((dir / "store.py").string()), mnt);
    ASSERT_EQ(result.status, 0) << result.output;
    const std::string now = read_file(text);
    EXPECT_EQ(now[100], 'A');
    EXPECT_EQ(now[131], 'B');
    std::string expected = original;
    expected[100] = 'A';
    expected[131] = 'B';
    EXPECT_TRUE(now == expected) << "bytes other than the two stores changed";
    EXPECT_EQ(ok("head -c 1 " + quote(at("sample.txt").string())), "A");
}

TEST_F(PythonMmapTest, MmapAfterAnOTruncOpenSeesTheTrueLength) {
    dir.write_file("trunc.py", R"(import mmap, os
fd = os.open("sample.txt", os.O_RDWR | os.O_TRUNC)
assert os.fstat(fd).st_size == 64, os.fstat(fd).st_size
m = mmap.mmap(fd, 64)
assert m[0:5] == b"mapfs", m[0:5]
m.close(); os.close(fd)
print(os.stat("sample.txt").st_size)
)");
    EXPECT_EQ(run("python3 " + quote((dir / "trunc.py").string()), mnt).output, "64\n");
    EXPECT_TRUE(read_file(text) == original) << "O_TRUNC must not change any byte";
}

// fsx.py, an fsx-style exerciser: random reads, writes, mapped reads and
// writes and syncs, some straddling the end, checked against a model of the
// window's bytes. Whole windows are passed through in the passthrough pass.
class FsxTest : public MountTest {
protected:
    std::string fsx(const std::string& read, const std::string& write, std::uint64_t size, int seed) {
        const char* script = std::getenv("MAPFS_TEST_FSX");
        std::string command = "python3 " + quote(script != nullptr ? script : "fsx.py") + " --read " +
                              quote(at(read).string()) + " --size " + std::to_string(size) + " --ops 4000 --seed " +
                              std::to_string(seed);
        if (!write.empty()) command += " --write " + quote(at(write).string());
        return run(command).output;
    }
};

TEST_F(FsxTest, AWholeAnonymousWindow) {
    mount_args({"-w", "m:anon,size=1MiB", mnt.string()});
    EXPECT_EQ(fsx("m", "", 1 << 20, 1), "ok 4000 ops\n");
}

TEST_F(FsxTest, AWholeFileReadThroughOneWindowAndWrittenThroughAnother) {
    const auto file = backing("disk.img", pattern_bytes((1 << 20) + 123, 5));
    mount_args({"-w", "r:file=" + file.string() + ",access=read", "-w", "w:file=" + file.string() + ",access=write",
                mnt.string()});
    EXPECT_EQ(fsx("r", "w", (1 << 20) + 123, 2), "ok 4000 ops\n");
}

TEST_F(FsxTest, AnOffsetWindowOfAFile) {
    const auto file = backing("disk.img", pattern_bytes(3 << 20, 6));
    mount_args({"-w", "p:file=" + file.string() + ",offset=12345,length=" + std::to_string((1 << 20) + 7) + ",access=write",
                mnt.string()});
    EXPECT_EQ(fsx("p", "", (1 << 20) + 7, 3), "ok 4000 ops\n");
}

}  // namespace
}  // namespace mapfs::testing
