// Overlapping windows are coherent: once a write through one window has
// returned, a reader of another window that shows the same bytes sees them,
// whether it reads with pread or through its own mapping, in every cache
// mode that caches. The write waits for the kernel to drop the other
// windows' cached pages before it replies (fuse/write.cpp).
#include <gtest/gtest.h>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

class CoherenceTest : public MountTest, public ::testing::WithParamInterface<std::string> {
protected:
    // "writer" and "reader" show the same 64 KiB of the file, at different
    // offsets into each window and not page-aligned.
    void mount_windows(const std::string& reader_cache) {
        const auto disk = backing("disk.img", pattern_bytes(1 << 20, 17));
        mount_config("[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n" +
                     "[[window]]\nname = \"writer\"\nregion = \"d\"\noffset = 4000\nlength = 70000\naccess = \"write\"\n" +
                     "[[window]]\nname = \"reader\"\nregion = \"d\"\noffset = 1000\nlength = 80000\naccess = \"read\"\n"
                     "cache = \"" + reader_cache + "\"\n");
    }

    // Runs `tries` rounds of: read the reader (its pages are cached now),
    // write a new value through the writer, read the reader again. Prints
    // the number of second reads that did not see the new value.
    std::string stale_reads(const std::string& how, int tries) {
        return python(R"(
how, tries = sys.argv[1], int(sys.argv[2])
writer = os.open("writer", os.O_RDWR)
reader = os.open("reader", os.O_RDONLY)
view = mmap.mmap(reader, 0, prot=mmap.PROT_READ) if how == "mmap" else None
def read(at):
    return view[at:at + 8] if view is not None else os.pread(reader, 8, at)
stale = 0
for i in range(tries):
    file_offset = 5000 + (i * 4093) % 60000
    at = file_offset - 1000
    read(at)
    value = b"%08d" % i
    os.pwrite(writer, value, file_offset - 4000)
    if read(at) != value:
        stale += 1
print(stale)
)", {how, std::to_string(tries)});
    }
};

TEST_P(CoherenceTest, PreadReadersSeeEveryWriteOnceItReturned) {
    mount_windows(GetParam());
    EXPECT_EQ(stale_reads("pread", 1000), "0\n") << "stale reads in 1000 tries";
}

TEST_P(CoherenceTest, ClientMappingsSeeEveryWriteOnceItReturned) {
    mount_windows(GetParam());
    EXPECT_EQ(stale_reads("mmap", 1000), "0\n") << "stale reads in 1000 tries";
    const std::string status = ok("cat mnt/.mapfs/status");
    EXPECT_NE(status.find("\"late_invalidations\": 0"), std::string::npos) << status;
}

INSTANTIATE_TEST_SUITE_P(CacheModes, CoherenceTest, ::testing::Values("auto", "keep"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace mapfs::testing
