// Cache modes: what the kernel may keep, and that a write through one window
// drops the cached pages of every overlapping window.
#include <gtest/gtest.h>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

class CacheTest : public MountTest {
protected:
    std::filesystem::path disk;

    void mount_mode(const std::string& cache, const std::vector<std::string>& extra = {}) {
        disk = backing("disk.img", pattern_bytes(1 << 20, 21));
        mount_config("[options]\ncache = \"" + cache + "\"\n[[region]]\nname = \"d\"\nfile = \"" + disk.string() + R"("
[[window]]
name = "a"
region = "d"
offset = 4096
length = 65536
access = "write"
[[window]]
name = "b"
region = "d"
offset = 1000
length = 100000
access = "write"
)", extra);
    }

};

// b's bytes [3096, 3096 + 16) are a's bytes [0, 16): file offset 4096.
constexpr const char* write_through_a_while_b_is_open = R"(
b = os.open("b", os.O_RDONLY)
before = os.pread(b, 16, 3096)
a = os.open("a", os.O_WRONLY)
os.pwrite(a, b"NEW-BYTES-FROM-A", 0)
os.close(a)
deadline = time.time() + 5
while os.pread(b, 16, 3096) != b"NEW-BYTES-FROM-A" and time.time() < deadline:
    time.sleep(0.01)
print(os.pread(b, 16, 3096).decode())
)";

TEST_F(CacheTest, AutoDropsCachedPagesOfAnOpenOverlappingWindow) {
    mount_mode("auto");
    EXPECT_EQ(python(write_through_a_while_b_is_open), "NEW-BYTES-FROM-A\n");
    EXPECT_EQ(read_file(disk).substr(4096, 16), "NEW-BYTES-FROM-A");
}

TEST_F(CacheTest, InvalidationDoesNotDeadlockASingleThreadedSession) {
    mount_mode("auto", {"-s"});
    EXPECT_EQ(python(write_through_a_while_b_is_open), "NEW-BYTES-FROM-A\n");
    // Many writes while b's pages are being read through a client mapping.
    EXPECT_EQ(python(R"(
with open("b", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    a = os.open("a", os.O_WRONLY)
    for i in range(200):
        os.pwrite(a, b"%08d" % i, (i * 4096) % 65536)
        m[3096:3104]
    os.close(a)
    print("done")
)"), "done\n");
}

TEST_F(CacheTest, KeepDropsCachedPagesEvenAfterClose) {
    mount_mode("keep");
    ok("cat " + quote(at("b").string()) + " > /dev/null");  // fills the kernel's cache of b
    ok("printf NEW-BYTES-FROM-A | dd of=" + quote(at("a").string()) + " conv=notrunc status=none");
    EXPECT_EQ(python(R"(
deadline = time.time() + 5
def b_bytes():
    with open("b", "rb") as f:
        f.seek(3096); return f.read(16)
while b_bytes() != b"NEW-BYTES-FROM-A" and time.time() < deadline:
    time.sleep(0.01)
print(b_bytes().decode())
)"), "NEW-BYTES-FROM-A\n");
}

TEST_F(CacheTest, NoneSeesChangesMadeToTheBackingFileAtOnce) {
    mount_mode("none");
    EXPECT_EQ(python(R"(
b = os.open("b", os.O_RDONLY)
os.pread(b, 4096, 0)
with open(")" + disk.string() + R"(", "r+b") as f:
    f.seek(1000); f.write(b"CHANGED-OUTSIDE!")
print(os.pread(b, 16, 0).decode())
)"), "CHANGED-OUTSIDE!\n");
    EXPECT_EQ(python(write_through_a_while_b_is_open), "NEW-BYTES-FROM-A\n");
}

TEST_F(CacheTest, AutoSeesOutsideChangesAtTheNextOpen) {
    mount_mode("auto");
    ok("cat " + quote(at("b").string()) + " > /dev/null");
    python("with open('" + disk.string() + "', 'r+b') as f:\n    f.seek(1000); f.write(b'CHANGED-OUTSIDE!')\n");
    EXPECT_EQ(ok("head -c 16 " + quote(at("b").string())), "CHANGED-OUTSIDE!");
}

TEST_F(CacheTest, ClientMmapInAutoModeSeesWritesThroughOtherWindows) {
    mount_mode("auto");
    EXPECT_EQ(python(R"(
with open("b", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[3096:3100]
    a = os.open("a", os.O_WRONLY)
    os.pwrite(a, b"MMAP", 0)
    os.close(a)
    deadline = time.time() + 5
    while m[3096:3100] != b"MMAP" and time.time() < deadline:
        time.sleep(0.01)
    print(m[3096:3100].decode(), len(m))
)"), "MMAP 100000\n");
}

TEST_F(CacheTest, NoneRefusesClientSharedMmapOnThisLibfuse) {
    // libfuse 3.14 cannot allow shared mmap of direct-I/O files (see README).
    mount_mode("none");
    EXPECT_EQ(python(R"(
with open("b", "r+b") as f:
    try:
        mmap.mmap(f.fileno(), 0); print("mapped")
    except OSError as e:
        print(e.errno == 19 and "ENODEV" or e)
)"), "ENODEV\n");
}

// Another process stores into its own mapping of the backing file, twice
// on one page: the second store changes no size and, the page being dirty
// already, no mtime (tmpfs never stamps one for mmap stores). The next open
// of an auto window must still show it: auto keeps no cache across opens.
class MappedStoresTest : public MountTest, public ::testing::WithParamInterface<Storage> {
protected:
    MappedStoresTest() : MountTest(GetParam()) {}
};

TEST_P(MappedStoresTest, AutoShowsAnotherProcessesMappedStoresAtTheNextOpen) {
    const auto disk = backing("disk.img", pattern_bytes(1 << 20, 22));
    mount_args({"-w", "w:file=" + disk.string() + ",offset=4097,length=65536,access=read", mnt.string()});
    EXPECT_EQ(python(R"(
import subprocess
m = mmap.mmap(os.open(sys.argv[1], os.O_RDWR), 1 << 20)
def window():  # window bytes [8, 16): file bytes [4105, 4113), a new open each time
    return subprocess.run(["dd", "if=w", "bs=8", "skip=1", "count=1", "status=none"], capture_output=True).stdout
m[4105:4113] = b"AAAAAAAA"
first = window()
m[4105:4113] = b"BBBBBBBB"
print(first, window())
)", {disk.string()}), "b'AAAAAAAA' b'BBBBBBBB'\n");
}

INSTANTIATE_TEST_SUITE_P(Storage, MappedStoresTest, ::testing::Values(Storage::disk, Storage::memory),
                         [](const ::testing::TestParamInfo<Storage>& info) {
                             return info.param == Storage::disk ? "OnADiskFileSystem" : "OnTmpfs";
                         });

}  // namespace
}  // namespace mapfs::testing
