// The semantics table of DESIGN.md, row by row, through real system calls.
#include <gtest/gtest.h>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

class SemanticsTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::string original = pattern_bytes(1 << 20, 11);

    void SetUp() override {
        disk = backing("disk.img", original);
        mount_config("[[region]]\nname = \"disk\"\nfile = \"" + disk.string() + R"("
[[region]]
name = "scratch"
anon = true
size = "64KiB"

[[window]]
name = "rw"
region = "disk"
offset = 100
length = 5000
access = "write"

[[window]]
name = "ro"
region = "disk"
access = "read"

[[window]]
name = "cow"
region = "disk"
access = "copy"

[[window]]
name = "custom/mode"
region = "disk"
length = 4096
access = "write"
mode = "0600"
uid = 1234
gid = 4321

[[window]]
name = "scratch"
region = "scratch"
access = "write"
)");
    }

    void expect_unchanged() {
        EXPECT_TRUE(read_file(disk) == original) << "the backing file changed";
    }
};

TEST_F(SemanticsTest, StatShowsLengthModeAndOwner) {
    EXPECT_EQ(ok("stat -c '%F %s %a %u %g' " + quote(at("rw").string())), "regular file 5000 644 0 0\n");
    EXPECT_EQ(ok("stat -c '%F %s %a' " + quote(at("ro").string())), "regular file 1048576 444\n");
    EXPECT_EQ(ok("stat -c '%F %s %a' " + quote(at("cow").string())), "regular file 1048576 644\n");
    EXPECT_EQ(ok("stat -c '%F %s %a %u %g' " + quote(at("custom/mode").string())), "regular file 4096 600 1234 4321\n");
    EXPECT_EQ(ok("stat -c '%F %s' " + quote(at("scratch").string())), "regular file 65536\n");
    EXPECT_EQ(ok("stat -c '%F' " + quote(at("custom").string())), "directory\n");
    EXPECT_EQ(ok("ls " + quote(mnt.string()) + " | tr '\\n' ' '"), "cow custom ro rw scratch ");
}

TEST_F(SemanticsTest, OpeningAReadWindowForWritingIsEaccesEvenForRoot) {
    EXPECT_EQ(python(R"(
for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC):
    try:
        os.open("ro", flags); print("opened")
    except OSError as e:
        print(errno.errorcode[e.errno])
)"), "EACCES\nEACCES\nEACCES\n");
    expect_unchanged();
}

TEST_F(SemanticsTest, OTruncIsAcceptedAndChangesNothing) {
    ok(": > " + quote(at("rw").string()));
    EXPECT_EQ(ok("stat -c %s " + quote(at("rw").string())), "5000\n");
    EXPECT_EQ(ok("wc -c < " + quote(at("rw").string())), "5000\n");
    expect_unchanged();
    EXPECT_EQ(python("fd = os.open('rw', os.O_WRONLY | os.O_TRUNC)\nprint(os.fstat(fd).st_size)\nos.close(fd)\nprint(os.stat('rw').st_size)\n"),
              "5000\n5000\n");
    expect_unchanged();
}

// A handle opened with O_TRUNC and left idle (`exec 3>window`) must not make
// the window look empty to everyone else.
TEST_F(SemanticsTest, AnIdleOTruncHandleLeavesTheSizeAlone) {
    EXPECT_EQ(python(R"(
fd = os.open('rw', os.O_WRONLY | os.O_TRUNC)
time.sleep(0.5)
print(os.stat('rw').st_size, len(open('rw', 'rb').read()))
os.close(fd)
)"), "5000 5000\n");
    expect_unchanged();
}

// Another process's "> window" (an O_TRUNC open) while a client has stores in
// its mapping that it has not flushed yet: with atomic O_TRUNC the kernel
// used to set the size to 0 and drop the dirty pages, so the client read
// zeros (or got SIGBUS) and flush() wrote zeros to the backing file.
TEST_F(SemanticsTest, AnOTruncOpenElsewhereKeepsAClientMappingsUnflushedStores) {
    for (const std::string truncate : {": > rw", "cp /dev/null rw", "dd if=/dev/null of=rw status=none"}) {
        EXPECT_EQ(python(R"(
import subprocess
f = open("rw", "r+b")
m = mmap.mmap(f.fileno(), 0)
m[0:11] = b"DIRTY-BYTES"
subprocess.run(["bash", "-c", sys.argv[1]], check=True)
print(m[0:11], len(m), os.stat("rw").st_size, os.fstat(f.fileno()).st_size)
m[4000:4005] = b"LATER"
m.flush(); m.close(); f.close()
)", {truncate}), "b'DIRTY-BYTES' 5000 5000 5000\n") << truncate;
        EXPECT_EQ(read_file(disk).substr(100, 11), "DIRTY-BYTES") << truncate;
        EXPECT_EQ(read_file(disk).substr(4100, 5), "LATER") << truncate;
        EXPECT_EQ(read_file(disk).size(), original.size());
    }
}

TEST_F(SemanticsTest, TruncateToTheSameSizeSucceedsToAnotherSizeIsEinval) {
    ok("truncate -s 5000 " + quote(at("rw").string()));
    EXPECT_EQ(python(R"(
for size in (0, 4999, 5001, 1 << 40):
    for how in ("path", "fd"):
        try:
            if how == "path":
                os.truncate("rw", size)
            else:
                fd = os.open("rw", os.O_RDWR)
                try: os.ftruncate(fd, size)
                finally: os.close(fd)
            print("truncated")
        except OSError as e:
            print(errno.errorcode[e.errno])
print(os.stat("rw").st_size)
)"), "EINVAL\nEINVAL\nEINVAL\nEINVAL\nEINVAL\nEINVAL\nEINVAL\nEINVAL\n5000\n");
    expect_unchanged();
}

// A read window shows bytes it may not change, its size included: even the
// only window of anonymous memory (which a write window could resize)
// refuses another size, root included; the same size is no change.
TEST_F(MountTest, AReadWindowKeepsItsSize) {
    mount_args({"-w", "r:anon,size=64KiB,access=read", mnt.string()});
    EXPECT_EQ(python(R"(
for size in (65536, 4096, 1 << 20):
    try: os.truncate("r", size); print("resized to", size)
    except OSError as e: print(errno.errorcode[e.errno])
print(os.stat("r").st_size)
)"), "resized to 65536\nEACCES\nEACCES\n65536\n");
}

TEST_F(SemanticsTest, FsyncSucceedsOnEveryKindOfWindow) {
    EXPECT_EQ(python(R"(
for name, flags in (("rw", os.O_RDWR), ("ro", os.O_RDONLY), ("cow", os.O_RDWR), ("scratch", os.O_RDWR)):
    fd = os.open(name, flags)
    if flags == os.O_RDWR: os.pwrite(fd, b"sync", 0)
    os.fsync(fd); os.fdatasync(fd); os.close(fd)
    print(name)
)"), "rw\nro\ncow\nscratch\n");
    EXPECT_EQ(read_file(disk).substr(100, 4), "sync");
    ok("dd if=/dev/zero of=" + quote(at("rw").string()) + " bs=1000 count=1 conv=notrunc,fsync status=none");
    EXPECT_EQ(read_file(disk).substr(100, 1000), std::string(1000, '\0'));
}

TEST_F(SemanticsTest, NamespaceChangesAreRefusedWithEperm) {
    EXPECT_EQ(python(R"(
attempts = [
    lambda: os.open("new", os.O_CREAT | os.O_WRONLY, 0o644),
    lambda: os.mkdir("newdir"),
    lambda: os.unlink("rw"),
    lambda: os.rmdir("custom"),
    lambda: os.rename("rw", "moved"),
    lambda: os.link("rw", "hard"),
    lambda: os.symlink("rw", "soft"),
    lambda: os.chmod("rw", 0o777),
    lambda: os.chown("rw", 1, 1),
    lambda: os.mknod("node"),
]
for attempt in attempts:
    try:
        attempt(); print("allowed")
    except OSError as e:
        print(errno.errorcode[e.errno])
)"), "EPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\n");
    EXPECT_EQ(ok("ls " + quote(mnt.string()) + " | tr '\\n' ' '"), "cow custom ro rw scratch ");
    expect_unchanged();
}

TEST_F(SemanticsTest, AnonymousRegionKeepsWhatIsWritten) {
    const std::string data = pattern_bytes(65536, 12);
    dir.write_file("data", data);
    ok("cp data " + quote(at("scratch").string()));
    ok("cmp data " + quote(at("scratch").string()));
}

TEST(ReadOnlyMount, WritesAndNamespaceChangesAreErofs) {
    TempDir dir;
    const auto disk = dir.write_file("disk.img", pattern_bytes(8192, 3));
    std::filesystem::create_directory(dir / "mnt");
    {
        MountedMapfs daemon({disk.string(), (dir / "mnt").string(), "-o", "ro"}, dir / "mnt", dir / "log");
        ASSERT_TRUE(daemon.live()) << daemon.log();
        EXPECT_EQ(run("stat -c %a " + quote((dir / "mnt/disk.img").string())).output, "444\n");
        const CommandResult write = run("echo x > " + quote((dir / "mnt/disk.img").string()));
        EXPECT_NE(write.status, 0);
        EXPECT_NE(write.output.find("Read-only file system"), std::string::npos) << write.output;
        EXPECT_NE(run("mkdir " + quote((dir / "mnt/d").string())).output.find("Read-only file system"), std::string::npos);
        EXPECT_EQ(daemon.unmount(), 0);
    }
    EXPECT_TRUE(read_file(disk) == pattern_bytes(8192, 3));
}

}  // namespace
}  // namespace mapfs::testing

namespace mapfs::testing {
namespace {

// Every way of writing a mode that the README shows gives those bits.
TEST_F(MountTest, ModesAndUmasksInEveryOctalSpellingShowAsWritten) {
    const auto disk = backing("disk.img", pattern_bytes(8192, 5));
    const auto window = [&](const std::string& name, const std::string& mode) {
        return "[[window]]\nname = \"" + name + "\"\nregion = \"d\"\naccess = \"write\"\n" +
               (mode.empty() ? "" : "mode = " + mode + "\n");
    };
    mount_config("[options]\numask = 0o027\n[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n" +
                 window("toml-octal", "0o644") + window("string", "\"644\"") + window("string-zero", "\"0644\"") +
                 window("string-0o", "\"0o600\"") + window("umasked", ""));
    EXPECT_EQ(ok("cd mnt && stat -c '%n %A' toml-octal string string-zero string-0o umasked"),
              "toml-octal -rw-r--r--\nstring -rw-r--r--\nstring-zero -rw-r--r--\nstring-0o -rw-------\numasked -rw-r-----\n");
}

}  // namespace
}  // namespace mapfs::testing
