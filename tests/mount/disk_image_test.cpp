// Disk images, as the tools people use on them see them: partition tables
// made by sfdisk and sgdisk shown as windows, file systems made and checked
// by mkfs and fsck on them, holes seen by cp --sparse and qemu-img,
// discard, server-side copy, growable anonymous memory, and the page cache
// kept across opens of an unchanged window.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

constexpr std::uint64_t mib = 1 << 20;

// Images live on a disk file system, as they do in use: on tmpfs, reading
// a hole through a mapping allocates it, and the image would lose the
// holes these tests look at.
class DiskImageTest : public DiskMountTest {
protected:
    std::filesystem::path image = dir / "disk.img";

    // A 64 MiB image of pattern bytes, so that every partition's bytes differ.
    void make_image() { backing("disk.img", pattern_bytes(64 * mib, 41)); }

    // sha256 of bytes [offset, offset + length) of the image.
    std::string image_range(std::uint64_t offset, std::uint64_t length) { return sha256_of_range(image, offset, length); }

    // start and size in bytes of each partition, from sfdisk's own dump.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> partitions_by_sfdisk() {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> found;
        std::istringstream dump(ok("sfdisk -d disk.img"));
        for (std::string line; std::getline(dump, line);) {
            const auto start = line.find("start=");
            const auto size = line.find("size=");
            if (start == std::string::npos || size == std::string::npos) continue;
            found.emplace_back(std::stoull(line.substr(start + 6)) * 512, std::stoull(line.substr(size + 5)) * 512);
        }
        return found;
    }

    // A fresh GPT made by sgdisk (-q would make it give up quietly on an
    // image whose old contents look like a broken table).
    void make_gpt(const std::string& partitions) {
        ok("sgdisk -Z disk.img > /dev/null 2>&1; sgdisk -o " + partitions + " disk.img > /dev/null");
    }

    std::string xattr(const std::string& window, const std::string& name) {
        return python("print(os.getxattr(sys.argv[1], sys.argv[2]).decode())", {window, name});
    }
};

// MBR with an extended partition: primaries by slot, logical ones from 5,
// each window holding exactly its partition's bytes.
TEST_F(DiskImageTest, MbrPartitionsAreNumberedAsLinuxDoes) {
    make_image();
    ok("printf 'label: dos\\nstart=2048, size=16384, type=83\\nstart=18432, size=40960, type=5\\n"
       "start=20480, size=8192, type=83\\nstart=30720, size=8192, type=c\\n' | sfdisk -q disk.img");
    const auto table = partitions_by_sfdisk();
    ASSERT_EQ(table.size(), 4u) << ok("sfdisk -d disk.img");
    mount_args({"-w", "disk:file=" + image.string() + ",partitions", mnt.string()});
    EXPECT_EQ(ok("ls mnt/disk | tr '\\n' ' '"), "p1 p5 p6 ");
    EXPECT_EQ(sha256_of_range(at("disk/p1"), 0, table[0].second), image_range(table[0].first, table[0].second));
    EXPECT_EQ(sha256_of_range(at("disk/p5"), 0, table[2].second), image_range(table[2].first, table[2].second));
    EXPECT_EQ(sha256_of_range(at("disk/p6"), 0, table[3].second), image_range(table[3].first, table[3].second));
    EXPECT_EQ(ok("stat -c %s mnt/disk/p6"), std::to_string(table[3].second) + "\n");
    EXPECT_EQ(xattr("disk/p1", "user.mapfs.partition.type"), "0x83\n");
    EXPECT_EQ(xattr("disk/p6", "user.mapfs.partition.type"), "0x0c\n");
    EXPECT_EQ(xattr("disk/p5", "user.mapfs.partition.scheme"), "mbr\n");
}

// GPT with names and a gap in the numbers (entry 2 unused): p1 and p3.
TEST_F(DiskImageTest, GptPartitionsCarryTheirNamesAndTypes) {
    make_image();
    make_gpt("-n 1:2048:+8M -c 1:'EFI system' -t 1:ef00 -n 3:20480:+16M -c 3:'root fs' -t 3:8300");
    mount_config("[[region]]\nname = \"d\"\nfile = \"" + image.string() +
                 "\"\n[[window]]\nname = \"img\"\nregion = \"d\"\naccess = \"write\"\npartitions = true\n");
    EXPECT_EQ(ok("ls mnt/img | tr '\\n' ' '"), "p1 p3 ");
    EXPECT_EQ(sha256_of_range(at("img/p3"), 0, 16 * mib), image_range(20480 * 512, 16 * mib));
    EXPECT_EQ(xattr("img/p3", "user.mapfs.partition.name"), "root fs\n");
    EXPECT_EQ(xattr("img/p3", "user.mapfs.partition.type"), "0FC63DAF-8483-4772-8E79-3D69D8477DE4\n");
    EXPECT_EQ(xattr("img/p1", "user.mapfs.partition.type"), "C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n");
    const std::string names = ok("getfattr -d mnt/img/p1");
    EXPECT_NE(names.find("user.mapfs.partition.name=\"EFI system\""), std::string::npos) << names;
    const std::string status = ok(quote(mapfs_binary()) + " status mnt");
    EXPECT_NE(status.find("root fs"), std::string::npos) << status;
    EXPECT_NE(status.find("0FC63DAF-8483-4772-8E79-3D69D8477DE4"), std::string::npos) << status;
}

// Without partition windows, attributes are not supported at all (ENOSYS
// to the kernel, which then stops asking: `ls -l` asks two of every file),
// while a partition window's still answer ENODATA for a name it lacks.
TEST_F(DiskImageTest, AttributesAreUnsupportedWithoutPartitionWindows) {
    make_image();
    mount_args({"-w", "plain:file=" + image.string() + ",length=1MiB", mnt.string()});
    const std::string probe = "import errno\nfor ask in (lambda: os.getxattr(sys.argv[1], 'security.selinux'),\n"
                              "            lambda: os.listxattr(sys.argv[1])):\n    try:\n        print(ask())\n"
                              "    except OSError as e:\n        print(errno.errorcode[e.errno])\n";
    EXPECT_EQ(python(probe, {"plain"}), "ENOTSUP\nENOTSUP\n");
    daemon.reset();
    make_gpt("-n 1:2048:+8M");
    mount_args({"-w", "img:file=" + image.string() + ",partitions", mnt.string()});
    EXPECT_EQ(python(probe, {"img/p1"}), "ENODATA\n['user.mapfs.partition.type', 'user.mapfs.partition.number', "
                                         "'user.mapfs.partition.scheme']\n");
}

// A real file system on a partition window, made and checked by its tools.
TEST_F(DiskImageTest, Ext4AndVfatOnPartitionWindowsAreClean) {
    make_image();
    make_gpt("-n 1:2048:+24M -n 2:0:+24M");
    mount_args({"-w", "disk:file=" + image.string() + ",partitions,access=write", mnt.string()});
    ok("mkfs.ext4 -q -F mnt/disk/p1 && fsck.ext4 -n -f mnt/disk/p1");
    ok("printf 'written into the image\\n' > note.txt && debugfs -w -R 'write note.txt note.txt' mnt/disk/p1");
    EXPECT_EQ(ok("debugfs -R 'cat note.txt' mnt/disk/p1 2>/dev/null"), "written into the image\n");
    ok("fsck.ext4 -n -f mnt/disk/p1");
    ok("mkfs.vfat mnt/disk/p2 > /dev/null && fsck.vfat -n mnt/disk/p2");
    // The bytes are in the image, at the partition's place.
    EXPECT_EQ(ok("dd if=disk.img bs=1M skip=1 count=24 status=none > p1.raw && debugfs -R 'cat note.txt' p1.raw 2>/dev/null"),
              "written into the image\n");
}

TEST_F(DiskImageTest, BrokenPartitionTablesAreRefusedWithTheEntryNamed) {
    make_image();
    make_gpt("-n 1:2048:+8M");
    ok("cp disk.img gpt.img");
    // Both GPT headers' CRCs broken.
    ok("printf 'X' | dd of=gpt.img bs=1 seek=$((512 + 40)) conv=notrunc status=none && "
       "printf 'X' | dd of=gpt.img bs=1 seek=$((64 * 1048576 - 512 + 40)) conv=notrunc status=none");
    // An extended partition whose record points at itself.
    ok("truncate -s 16M loop.img && printf 'label: dos\\nstart=2048, size=16384, type=5\\n' | sfdisk -q loop.img && "
       "printf '\\x05\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00' | dd of=loop.img bs=1 seek=$((2048 * 512 + 466)) conv=notrunc status=none && "
       "printf '\\x55\\xaa' | dd of=loop.img bs=1 seek=$((2048 * 512 + 510)) conv=notrunc status=none");
    const struct Case {
        std::string arguments;
        std::string words;
    } cases[] = {
        {"-w 'd:file=gpt.img,partitions'", "fails its CRC, and the backup is no better"},
        {"-w 'd:file=loop.img,partitions'", "chain loops back to the record at byte 1048576"},
        {"-w 'd:file=disk.img,partitions,length=4MiB'", "GPT entry 1 spans bytes 1048576 to 9437184, past the end of the window"},
        {"-w 'd:file=note,partitions'", "no partition table"},
    };
    backing("note", std::string(4096, 'n'));
    for (const Case& c : cases) {
        const CommandResult result = run(quote(mapfs_binary()) + " -f " + c.arguments + " mnt", dir.path());
        EXPECT_EQ(result.status, 2) << c.arguments << "\n" << result.output;
        EXPECT_NE(result.output.find(c.words), std::string::npos) << c.arguments << "\n" << result.output;
        EXPECT_NE(result.output.find("window \"d\": partitions: \""), std::string::npos) << result.output;
        EXPECT_FALSE(is_mounted(mnt));
    }
}

// The holes of a sparse image show through a window: cp --sparse keeps
// them, qemu-img maps the same extents as on the image.
TEST_F(DiskImageTest, HolesShowThroughAWindow) {
    ok("qemu-img create -q -f raw sparse.img 64M && "
       "dd if=/dev/urandom of=sparse.img bs=1M seek=3 count=2 conv=notrunc status=none && "
       "dd if=/dev/urandom of=sparse.img bs=1M seek=20 count=1 conv=notrunc status=none");
    mount_args({"-w", "w:file=" + (dir / "sparse.img").string() + ",offset=2MiB,length=32MiB,access=read", mnt.string()});
    const std::string extents = python(R"(
fd = os.open("w", os.O_RDONLY)
at, found = 0, []
while True:
    try:
        data = os.lseek(fd, at, os.SEEK_DATA)
    except OSError as e:
        assert e.errno == errno.ENXIO; break
    hole = os.lseek(fd, data, os.SEEK_HOLE)
    found.append((data >> 20, hole >> 20)); at = hole
print(found)
)");
    EXPECT_EQ(extents, "[(1, 3), (18, 19)]\n");
    ok("cp --sparse=always mnt/w copy.img && cmp copy.img mnt/w");
    EXPECT_LT(std::stoull(ok("stat -c %b copy.img")) * 512, 4 * mib) << "the copy is not sparse";
    const std::string map = ok("qemu-img map -f raw --output=json mnt/w");
    EXPECT_NE(map.find("\"start\": 1048576, \"length\": 2097152, \"depth\": 0, \"present\": true, \"zero\": false, \"data\": true"),
              std::string::npos) << map;
    EXPECT_NE(map.find("\"start\": 18874368, \"length\": 1048576, \"depth\": 0, \"present\": true, \"zero\": false, \"data\": true"),
              std::string::npos) << map;
}

// Holes in whole 4 KiB blocks of the window: at an offset that is no
// multiple of the file system's blocks (4097, 1 MiB + 512) a block holding
// any data byte is data, so tools that round block status (qemu-img rounds
// to 512 bytes) copy every byte, and cp --sparse still keeps the holes.
TEST_F(DiskImageTest, ToolsCopyEveryByteOfWindowsAtUnalignedOffsets) {
    ok("qemu-img create -q -f raw sparse.img 64M && "
       "dd if=/dev/urandom of=sparse.img bs=1M seek=37 count=1 conv=notrunc status=none && "
       "dd if=/dev/urandom of=sparse.img bs=4096 seek=5000 count=3 conv=notrunc status=none");
    mount_args({"-w", "a:file=" + (dir / "sparse.img").string() + ",offset=4097,length=48MiB,access=read", "-w",
                "b:file=" + (dir / "sparse.img").string() + ",offset=1049088,length=40MiB,access=read", mnt.string()});
    for (const char* window : {"a", "b"}) {
        const std::string w = std::string("mnt/") + window;
        ok("qemu-img convert -f raw -O raw " + w + " " + window + ".raw && cmp " + w + " " + window + ".raw");
        ok("qemu-img convert -f raw -O qcow2 " + w + " " + window + ".qcow2 && qemu-img compare -q -f raw -F qcow2 " + w + " " +
           window + ".qcow2");
        ok("cp --sparse=always " + w + " " + window + ".copy && cmp " + w + " " + window + ".copy");
        EXPECT_LT(std::stoull(ok("stat -c %b " + std::string(window) + ".copy")) * 512, 4 * mib)
            << window << ": the copy is not sparse";
    }
    // Every extent starts and ends on a 4 KiB block of the window.
    EXPECT_EQ(python(R"(
fd = os.open("a", os.O_RDONLY)
at, odd = 0, []
while True:
    try: data = os.lseek(fd, at, os.SEEK_DATA)
    except OSError: break
    hole = os.lseek(fd, data, os.SEEK_HOLE)
    odd += [x for x in (data, hole) if x % 4096 and x != os.fstat(fd).st_size]
    at = hole
print(odd)
)"), "[]\n");
}

// A window that does not line up with the file's blocks (offset 2 KiB),
// over a file that alternates 4 KiB blocks of data and of hole: every 4 KiB
// block of the window holds data, and finding that out costs two lseeks of the file per
// block. One SEEK_HOLE costs a bounded number of them (the rest then counts
// as data: the window's end), and SEEK_DATA two at most.
TEST_F(DiskImageTest, SeekingAHoleCostsABoundedNumberOfLseeksOfTheFile) {
    if (run("command -v strace").status != 0) GTEST_SKIP() << "strace is not installed";
    python(R"(
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.ftruncate(fd, 64 << 20)
for at in range(0, 64 << 20, 8192):
    os.pwrite(fd, b"d" * 4096, at)
)", {(dir / "striped.img").string()});
    mount_args({"-w", "w:file=" + (dir / "striped.img").string() + ",offset=2048,length=60MiB,access=read", mnt.string()});
    const pid_t server = daemon->server_pid();
    ASSERT_GT(server, 0);
    ok("strace -f -qq -e trace=lseek -o lseeks.txt -p " + std::to_string(server) + " & tracer=$!; sleep 1; "
       "python3 -c 'import os; fd = os.open(\"" + at("w").string() + "\", os.O_RDONLY); "
       "print(os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 8192, os.SEEK_DATA))' > answers.txt; "
       "sleep 0.5; kill $tracer; wait $tracer || true");
    EXPECT_EQ(read_file(dir / "answers.txt"), std::to_string(60u << 20) + " 8192\n");
    const std::string lseeks = read_file(dir / "lseeks.txt");
    const auto calls = static_cast<std::size_t>(std::count(lseeks.begin(), lseeks.end(), '\n'));
    EXPECT_GT(calls, 0u) << "strace saw no lseek";
    EXPECT_LE(calls, 2 * 1024 + 8) << "one SEEK_HOLE walked the window block by block";
}

// Punching a hole through a write window deallocates it in the image, like
// fstrim; zeroing writes zeros; a read window cannot; a copy window zeroes
// only its private pages. Another window's cache sees the zeros at once.
TEST_F(DiskImageTest, DiscardDeallocatesAndZeroesTheBackingRange) {
    make_image();
    ok("sync disk.img");
    mount_config("[[region]]\nname = \"d\"\nfile = \"" + image.string() + "\"\n" +
                 "[[window]]\nname = \"w\"\nregion = \"d\"\noffset = 1048576\nlength = 33554432\naccess = \"write\"\n"
                 "[[window]]\nname = \"r\"\nregion = \"d\"\naccess = \"read\"\n"
                 "[[window]]\nname = \"c\"\nregion = \"d\"\naccess = \"copy\"\n");
    const std::uint64_t blocks_before = std::stoull(ok("stat -c %b disk.img"));
    EXPECT_EQ(python(R"(
import subprocess
r = os.open("r", os.O_RDONLY); os.pread(r, 4096, 2 << 20)           # r caches the page
subprocess.run(["fallocate", "--punch-hole", "--keep-size", "-o", "1MiB", "-l", "8MiB", "w"], check=True)
print(os.pread(r, 8, 2 << 20) == bytes(8), os.stat("w").st_size)
subprocess.run(["fallocate", "--zero-range", "-o", "16MiB", "-l", "1MiB", "w"], check=True)
print(os.pread(r, 8, 17 << 20) == bytes(8))
for mode, name in ((["--punch-hole", "--keep-size"], "r"), (["--collapse-range"], "w"), (["-o", "0", "-l", "64MiB", "--punch-hole"], "w")):
    done = subprocess.run(["fallocate"] + mode + (["-o", "0", "-l", "1MiB"] if len(mode) < 3 else []) + [name], capture_output=True, text=True)
    print(done.returncode, done.stderr.split(":")[-1].strip())
c = os.open("c", os.O_RDWR); os.pwrite(c, b"private", 40 << 20)
subprocess.run(["fallocate", "--punch-hole", "--keep-size", "-o", "40MiB", "-l", "1MiB", "c"], check=True)
print(os.pread(c, 7, 40 << 20) == bytes(7), os.pread(r, 7, 40 << 20) != bytes(7))
)"), "True 33554432\nTrue\n1 Permission denied\n1 Operation not supported\n1 Invalid argument\nTrue True\n");
    const std::uint64_t blocks_after = std::stoull(ok("stat -c %b disk.img"));
    // 8 MiB punched; the file system may spend a block or two on its extent tree.
    EXPECT_LE(blocks_after + 7 * mib / 512, blocks_before) << "the image did not lose the punched blocks";
    EXPECT_EQ(sha256_of_range(image, 2 * mib, 8 * mib), sha256_of_range("/dev/zero", 0, 8 * mib));
    EXPECT_EQ(sha256_of_range(image, 40 * mib, mib), image_range(40 * mib, mib)) << "a copy window reached the image";
}

// copy_file_range between windows is done by mapfs from mapping to mapping:
// plain cp (coreutils 9 tries copy_file_range) makes one request per 16 MiB
// instead of a read and a write per block. cp --reflink=never reads and
// writes st_blksize (1 MiB) at a time.
TEST_F(DiskImageTest, CopiesBetweenWindowsAreServerSide) {
    make_image();
    mount_config("[[region]]\nname = \"d\"\nfile = \"" + image.string() + "\"\n" +
                 "[[window]]\nname = \"a\"\nregion = \"d\"\nlength = 16777216\naccess = \"read\"\n"
                 "[[window]]\nname = \"b\"\nregion = \"d\"\noffset = 33554432\nlength = 16777216\naccess = \"write\"\n"
                 "[[window]]\nname = \"b-shifted\"\nregion = \"d\"\noffset = 33558528\nlength = 16777216\naccess = \"write\"\n");
    const auto writes_to_b = [&] {
        const std::string status = ok("cat mnt/.mapfs/status");
        const auto at = status.find("\"writes\": ", status.find("\"name\": \"b\""));
        return std::stoull(status.substr(at + 10));
    };
    ok("cp mnt/a mnt/b");
    EXPECT_EQ(sha256_of_range(image, 32 * mib, 16 * mib), sha256_of_range(image, 0, 16 * mib));
    EXPECT_LE(writes_to_b(), 2u) << "plain cp went through the kernel's reads and writes";
    ok("dd if=/dev/zero of=mnt/b bs=1M count=16 conv=notrunc status=none");
    const auto before = writes_to_b();
    ok("cp --reflink=never mnt/a mnt/b");
    EXPECT_EQ(sha256_of_range(image, 32 * mib, 16 * mib), sha256_of_range(image, 0, 16 * mib));
    EXPECT_LE(writes_to_b() - before, 16u) << "cp --reflink=never wrote in blocks smaller than 1 MiB";
    // Windows that share bytes copy like memmove (the kernel refuses
    // overlapping ranges of one file itself).
    EXPECT_EQ(python(R"(
b = os.open("b", os.O_RDWR); shifted = os.open("b-shifted", os.O_RDWR)
before = os.pread(b, 8192, 0)
print(os.copy_file_range(b, shifted, 8192, 0, 0), os.pread(b, 8192, 4096) == before)
)"), "8192 True\n");
}

// Windows of one file map it through different views (read, write, a copy
// window's private mapping) at unrelated addresses: a copy between two of
// them whose ranges overlap in the file must move the bytes as memmove
// would in the file, not in memory. A file of 4-byte words each holding its
// index; every byte compared after each copy.
TEST_F(DiskImageTest, CopiesBetweenWindowsOfOneFileAreRightWhateverTheirMappings) {
    std::string words;
    for (std::uint32_t i = 0; i < (1u << 18); ++i) words.append(reinterpret_cast<const char*>(&i), 4);
    const auto file = backing("words.img", words);
    const std::string f = "file=" + file.string();
    mount_args({"-w", "r:" + f + ",access=read", "-w", "c:" + f + ",access=copy", "-w", "w:" + f + ",access=write", "-w",
                "w2:" + f + ",access=write", mnt.string()});
    EXPECT_EQ(python(R"PY(
original = open(sys.argv[1], "rb").read()
w = os.open("w", os.O_RDWR)
failures = []
for source in ("r", "c", "w2"):
    for src, dst, length in ((0, 4096, 256 << 10), (4096, 0, 256 << 10), (1000, 5003, 300000), (5003, 1000, 300000),
                             (0, 600000, 200000), (123, 124, 65537)):
        os.pwrite(w, original, 0)
        expected = bytearray(original)
        expected[dst:dst + length] = original[src:src + length]
        s = os.open(source, os.O_RDONLY)
        done = 0
        while done < length:
            done += os.copy_file_range(s, w, length - done, src + done, dst + done)
        os.close(s)
        if os.pread(w, len(original) + 1, 0) != bytes(expected) or open(sys.argv[1], "rb").read() != bytes(expected):
            failures.append(f"{source} -> w {src} -> {dst} ({length} bytes)")
print(failures)
)PY", {file.string()}), "[]\n");
}

// The only window of anonymous memory grows and shrinks like mmap.resize();
// other windows keep their length.
// Passed through, a region is sealed and keeps its size (PassthroughTest):
// the resize is a window's that mapfs serves.
TEST_F(DiskImageTest, AnonymousMemoryResizesLikeMmapResize) {
    make_image();
    mount_args({"-w", "shm:anon,size=1MiB,passthrough=off", "-w", "img:file=" + image.string() + ",length=1MiB", mnt.string()});
    EXPECT_EQ(python(R"PY(
import signal, subprocess
f = open("shm", "r+b"); m = mmap.mmap(f.fileno(), 0)
m[0:5] = b"kept!"; m.flush()
m.resize(4 << 20)                                   # ftruncate through the mount, then mremap
m[(4 << 20) - 4:] = b"tail"; m.flush()
print(os.stat("shm").st_size, m[0:5], len(open("shm", "rb").read()))
child = subprocess.Popen([sys.executable, "-c", "import mmap, time\nf = open('shm', 'rb'); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)\ntime.sleep(1)\nprint(m[3 << 20])"])
time.sleep(0.3)
os.truncate("shm", 2 << 20)                         # the child's pages past 2 MiB are gone
print(child.wait() == -signal.SIGBUS, os.stat("shm").st_size, open("shm", "rb").read(5))
for name in ("img",):
    try: os.truncate(name, 4096); print("resized")
    except OSError as e: print(errno.errorcode[e.errno])
)PY"), "4194304 b'kept!' 4194304\nTrue 2097152 b'kept!'\nEINVAL\n");
    const std::string status = ok(quote(mapfs_binary()) + " status mnt --json");
    EXPECT_NE(status.find("\"size\": 2097152"), std::string::npos) << status;
}

// A reload that renames the only window of a growable region (a new window
// object over the same memory) lets the old one go: the region has one
// window again and resizes as before. The first configuration's windows
// were kept alive by the server, so this failed with EINVAL for good.
TEST_F(DiskImageTest, AResizableWindowRenamedByAReloadStillResizes) {
    const std::string region = "[[region]]\nname = \"m\"\nanon = true\nsize = \"1MiB\"\n";
    const auto window = [](const std::string& name) {
        return "[[window]]\nname = \"" + name + "\"\nregion = \"m\"\naccess = \"write\"\npassthrough = \"off\"\n";
    };
    mount_config(region + window("s"));
    ok("printf kept | dd of=mnt/s conv=notrunc status=none && truncate -s 2MiB mnt/s");
    dir.write_file("mapfs.toml", region + window("t"));
    ok(quote(mapfs_binary()) + " reload " + quote(mnt.string()));
    ok("truncate -s 3MiB mnt/t");
    EXPECT_EQ(ok("stat -c %s mnt/t; head -c 4 mnt/t"), "3145728\nkept");
}

// cto keeps the kernel's cached pages across opens of an unchanged window:
// the second cat sends no READ to mapfs; a change to the backing file, or a
// write through another window, makes the next open read again.
TEST_F(DiskImageTest, CtoCacheSurvivesReopensOfAnUnchangedWindow) {
    make_image();
    mount_config("[[region]]\nname = \"d\"\nfile = \"" + image.string() + "\"\n" +
                 "[[window]]\nname = \"a\"\nregion = \"d\"\nlength = 4194304\naccess = \"read\"\ncache = \"cto\"\n"
                 "[[window]]\nname = \"w\"\nregion = \"d\"\noffset = 1048576\nlength = 4096\naccess = \"write\"\n");
    const auto reads_now = [&] {
        const std::string status = ok("cat mnt/.mapfs/status");
        const auto at = status.find("\"reads\": ", status.find("\"name\": \"a\""));
        return std::stoull(status.substr(at + 9));
    };
    // Readahead may still be answering when cat has returned: wait until
    // the count settles.
    const auto reads = [&] {
        auto count = reads_now();
        for (int i = 0; i < 50; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            const auto again = reads_now();
            if (again == count) break;
            count = again;
        }
        return count;
    };
    ok("cat mnt/a > /dev/null");
    const auto first = reads();
    EXPECT_GT(first, 0u);
    ok("cat mnt/a > /dev/null");
    EXPECT_EQ(reads(), first) << "the second cat of an unchanged window reached mapfs";
    ok("touch disk.img");
    ok("cat mnt/a > /dev/null");
    const auto after_touch = reads();
    EXPECT_GT(after_touch, first) << "a changed backing file did not make the next open read again";
    ok("printf NEW! | dd of=mnt/w conv=notrunc status=none");
    EXPECT_EQ(ok("dd if=mnt/a bs=1 skip=1048576 count=4 status=none"), "NEW!");
}

}  // namespace
}  // namespace mapfs::testing
