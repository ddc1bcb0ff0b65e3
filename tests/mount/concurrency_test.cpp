// Many clients at once: verifiable patterns, no errors, no stuck request,
// and requests that run in parallel.
#include <gtest/gtest.h>

#include <sstream>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

constexpr std::uint64_t region_bytes = 8 << 20;

class ConcurrencyTest : public MountTest {
protected:
    std::filesystem::path disk;

    void SetUp() override {
        disk = backing("disk.img", std::string(region_bytes, '\0'));
        // Overlapping windows at unaligned offsets; w0 shows everything.
        mount_config("[[region]]\nname = \"d\"\nfile = \"" + disk.string() + R"("
[[window]]
name = "w0"
region = "d"
access = "write"
[[window]]
name = "w1"
region = "d"
offset = 1048699
length = "5MiB"
access = "write"
[[window]]
name = "w2"
region = "d"
offset = "3MiB"
access = "write"
cache = "none"
[[window]]
name = "w3"
region = "d"
offset = 4097
length = 7340032
access = "write"
cache = "keep"
)");
    }
};

TEST_F(ConcurrencyTest, EightWritersAndReadersOnOverlappingWindowsAgree) {
    const std::string script = R"(
import os, struct, time, multiprocessing, random, sys
REGION = )" + std::to_string(region_bytes) + R"(
WINDOWS = {"w0": (0, REGION), "w1": (1048699, 5 << 20), "w2": (3 << 20, REGION - (3 << 20)), "w3": (4097, 7340032)}
BLOCK = 4096
BLOCKS = REGION // BLOCK
WORKERS = 8
SECONDS = float(sys.argv[1])

def pattern(owner, seq):
    return struct.pack("<II", owner, seq) * (BLOCK // 8)

def windows_covering(block):
    start, end = block * BLOCK, block * BLOCK + BLOCK
    return [(name, off) for name, (off, length) in WINDOWS.items() if off <= start and end <= off + length]

def worker(owner, results):
    rng = random.Random(owner)
    fds = {name: os.open(name, os.O_RDWR) for name in WINDOWS}
    mine = [b for b in range(owner, BLOCKS, WORKERS)]
    last = {}
    seq, errors, deadline = 0, [], time.time() + SECONDS
    while time.time() < deadline:
        seq += 1
        block = rng.choice(mine)
        name, off = rng.choice(windows_covering(block))
        if os.pwrite(fds[name], pattern(owner, seq), block * BLOCK - off) != BLOCK:
            errors.append("short write")
        last[block] = seq
        # Read someone's block through a random window: its owner field may
        # only hold the owner's id or the zero it started as. Pages of an
        # unaligned window straddle blocks and a reader may see a page just
        # before its invalidation lands, so a word can mix old and new bytes;
        # another writer's id can never appear.
        other = rng.randrange(BLOCKS)
        name, off = rng.choice(windows_covering(other))
        data = os.pread(fds[name], BLOCK, other * BLOCK - off)
        for word in range(0, BLOCK, 8):
            if data[word] not in (0, other % WORKERS) or any(data[word + 1:word + 4]):
                errors.append("block %d word %d holds owner bytes %s" % (other, word, data[word:word + 4].hex()))
                break
    for fd in fds.values(): os.close(fd)
    results.put((owner, seq, last, errors[:5]))

results = multiprocessing.Queue()
procs = [multiprocessing.Process(target=worker, args=(k, results)) for k in range(WORKERS)]
for p in procs: p.start()
outcomes = [results.get(timeout=SECONDS + 120) for _ in procs]
for p in procs: p.join(30); assert p.exitcode == 0, "worker died"
expected = bytearray(REGION)
total = 0
for owner, seq, last, errors in outcomes:
    assert not errors, (owner, errors)
    total += seq
    for block, s in last.items():
        expected[block * BLOCK:(block + 1) * BLOCK] = pattern(owner, s)
with open(")" + disk.string() + R"(", "rb") as f:
    assert f.read() == bytes(expected), "backing file differs from the last writes"
for name, (off, length) in WINDOWS.items():
    with open(name, "rb") as f:
        assert f.read() == bytes(expected[off:off + length]), name + " differs from the last writes"
print("ok", total > 1000)
)";
    dir.write_file("hammer.py", script);
    const CommandResult result = run("timeout 300 python3 " + quote((dir / "hammer.py").string()) + " 25", mnt);
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(result.output, "ok True\n");
}

// Two fsyncs of many dirty pages take a while each (on a disk: on tmpfs
// there is nothing to write); the debug trace shows whether the second was
// received before the first was answered.
TEST_F(DiskMountTest, SlowRequestsOverlapInTime) {
    const auto a = backing("a.img", std::string(96 << 20, 'a'));
    const auto b = backing("b.img", std::string(96 << 20, 'b'));
    ASSERT_NO_FATAL_FAILURE(mount_args({"-d", "-w", "a:file=" + a.string() + ",access=write", "-w",
                                        "b:file=" + b.string() + ",access=write", mnt.string()}));
    bool overlapped = false;
    for (int attempt = 0; attempt < 5 && !overlapped; ++attempt) {
        const std::string log_before = daemon->log();
        python(R"(
import threading
fds = [os.open(n, os.O_RDWR) for n in ("a", "b")]
for fd in fds:
    for offset in range(0, 96 << 20, 1 << 20):
        os.pwrite(fd, b"%d" % time.time_ns() * 1000, offset)
threads = [threading.Thread(target=os.fsync, args=(fd,)) for fd in fds]
for t in threads: t.start()
for t in threads: t.join()
)");
        // "unique: N, opcode: FSYNC" when received, "unique: N, success" when answered.
        const std::string log = daemon->log().substr(log_before.size());
        std::istringstream lines(log);
        std::vector<std::string> open_fsyncs;
        for (std::string line; std::getline(lines, line);) {
            const std::size_t at = line.find("unique: ");
            if (at == std::string::npos) continue;
            const std::size_t start = at + 8;
            const std::string id = line.substr(start, line.find(',', start) - start);
            const std::string rest = line.substr(line.find(',', start) + 2);
            if (rest.rfind("opcode: FSYNC", 0) == 0) {
                if (!open_fsyncs.empty()) overlapped = true;
                open_fsyncs.push_back(id);
            } else if (rest.rfind("success", 0) == 0 || rest.rfind("error", 0) == 0) {
                std::erase(open_fsyncs, id);
            }
        }
    }
    EXPECT_TRUE(overlapped) << "no FSYNC was received while another was still running";
}

}  // namespace
}  // namespace mapfs::testing
