// FUSE passthrough: a window that is a whole file (read) or a whole
// anonymous region is served by the kernel from the backing file itself.
// What the kernel serves never reaches mapfs, so these tests look where
// only passthrough leaves a mark: a client's mapping that sees a store made
// to the backing file outside the mount (it maps the file's own pages, not
// a copy in FUSE's page cache), the server's own memfd read through /proc
// (a client's store is there before any msync), the status report, and
// errors only the kernel's rules give (a seal's EPERM).
// Skipped, with the reason, where the machine cannot pass through (not
// root, a kernel before 6.9).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "mapfs/status_report.hpp"
#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

class PassthroughTest : public MountTest {
protected:
    void SetUp() override {
        MountTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        require_passthrough();
    }

    // Mounts with passthrough on, whatever pass of the suite this is.
    void mount_passing(std::vector<std::string> arguments) {
        arguments.insert(arguments.end(), {"-o", "passthrough=auto"});
        mount_args(arguments);
    }

    StatusReport report() {
        std::string error;
        auto parsed = read_status_report(mnt.string(), error);
        EXPECT_TRUE(parsed) << error;
        return parsed.value_or(StatusReport{});
    }

    WindowStatus window(const std::string& name) {
        for (const WindowStatus& found : report().windows)
            if (found.name == name) return found;
        ADD_FAILURE() << "no window " << name << " in the report";
        return {};
    }

    std::filesystem::path file;  // a 1 MiB backing file
    std::string bytes = pattern_bytes(1 << 20, 24);

    void make_file() { file = backing("disk.img", bytes); }
    std::string whole_read_window(const std::string& name = "r") {
        return name + ":file=" + file.string() + ",access=read";
    }
};

TEST_F(PassthroughTest, AWholeFileReadWindowIsServedByTheKernelFromTheFile) {
    make_file();
    mount_passing({"-w", whole_read_window() + ",cache=keep", mnt.string()});
    EXPECT_TRUE(window("r").passthrough) << window("r").passthrough_why_not;
    // A client's mapping of the window maps the backing file's own pages:
    // a store to the file made outside the mount shows in it at once,
    // where a window served by mapfs with cache=keep would show FUSE's
    // copy, read before the store.
    const std::string output = python(R"(
f = open("r", "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
data = m[:]
print(len(data), data == open(sys.argv[1], "rb").read())
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"outside", 4096)
print(m[4096:4103])
try:
    open("r", "r+b")
except OSError as e:
    print(errno.errorcode[e.errno])
)", {file.string()});
    EXPECT_EQ(output, "1048576 True\nb'outside'\nEACCES\n");
    ok("cmp mnt/r disk.img");
    const WindowStatus seen = window("r");
    EXPECT_FALSE(seen.counters_kept) << "the kernel served the reads: mapfs's counters miss them";
    EXPECT_EQ(seen.reads, 0u) << "no read reached mapfs";
    EXPECT_EQ(seen.passthrough_open_files, 0u);
    const std::string text = ok(quote(mapfs_binary()) + " status " + quote(mnt.string()));
    EXPECT_NE(text.find("-: not kept, the kernel serves passed-through opens itself"), std::string::npos) << text;
    EXPECT_NE(text.find("PASSTHROUGH"), std::string::npos) << text;
}

TEST_F(PassthroughTest, OpenFilesAreCountedWhileTheKernelServesThem) {
    make_file();
    mount_passing({"-w", whole_read_window(), mnt.string()});
    const std::string output = python(R"(
import json
held = [open("r", "rb") for _ in range(3)]
w = [x for x in json.load(open(".mapfs/status"))["windows"] if x["name"] == "r"][0]
print(w["open_handles"], w["passthrough"]["open_files"], w["passthrough"]["new_opens"])
)");
    EXPECT_EQ(output, "3 3 True\n");
}

// Everything the kernel could not serve within the window's bytes stays
// with mapfs, and the report says why for each.
TEST_F(PassthroughTest, WindowsThatAreNotAWholeFileOrRegionAreServedByMapfs) {
    make_file();
    const std::string f = "file=" + file.string();
    mount_passing({"-w", "offset:" + f + ",offset=4096,length=8192,access=read", "-w", "copy:" + f + ",access=copy", "-w",
                   "write:" + f + ",access=write", "-w", "part:anon,size=1MiB,length=4096", "-w", "off:" + f + ",access=read,passthrough=off",
                   mnt.string()});
    const std::vector<std::pair<std::string, std::string>> expected{
        {"offset", "it starts at byte 4096"},
        {"copy", "a copy window"},
        {"write", "a write window of a file"},
        {"part", "the region is 1MiB, the window 4KiB"},
        {"off", "passthrough=off"},
    };
    for (const auto& [name, why] : expected) {
        const WindowStatus seen = window(name);
        EXPECT_FALSE(seen.passthrough) << name;
        EXPECT_NE(seen.passthrough_why_not.find(why), std::string::npos) << name << ": " << seen.passthrough_why_not;
    }
    ok("cat mnt/offset mnt/copy mnt/write mnt/part mnt/off > /dev/null");
    for (const auto& [name, why] : expected) {
        EXPECT_TRUE(window(name).counters_kept) << name;
        EXPECT_GT(window(name).reads, 0u) << name << ": mapfs served it";
    }
}

// Two windows of one region: a write window passed through would leave the
// other's cached pages stale (writes the kernel serves never reach mapfs).
TEST_F(PassthroughTest, AWriteWindowOfAnAnonymousRegionSharedWithAnotherIsServedByMapfs) {
    mount_config("[[region]]\nname = \"m\"\nanon = true\nsize = \"1MiB\"\n"
                 "[[window]]\nname = \"whole\"\nregion = \"m\"\n"
                 "[[window]]\nname = \"half\"\nregion = \"m\"\nlength = \"512KiB\"\n",
                 {"-o", "passthrough=auto"});
    EXPECT_FALSE(window("whole").passthrough);
    EXPECT_NE(window("whole").passthrough_why_not.find("other windows view its region"), std::string::npos)
        << window("whole").passthrough_why_not;
}

// A client's mapping of an anonymous window is the region's memfd: a store
// is in the server's memory at once, before any msync or close (through
// FUSE's page cache it would reach mapfs only when written back).
TEST_F(PassthroughTest, AClientMappingOfAnAnonymousWindowIsTheRegionsOwnMemory) {
    mount_passing({"-w", "m:anon,size=4MiB", mnt.string()});
    const pid_t server = daemon->server_pid();
    ASSERT_GT(server, 0);
    const std::string output = python(R"(
f = open("m", "r+b")
m = mmap.mmap(f.fileno(), 0)
m[1 << 20:(1 << 20) + 7] = b"shared!"
server = sys.argv[1]
for name in os.listdir(f"/proc/{server}/fd"):
    try:
        target = os.readlink(f"/proc/{server}/fd/{name}")
    except OSError:
        continue
    if target.startswith("/memfd:mapfs:m "):
        fd = os.open(f"/proc/{server}/fd/{name}", os.O_RDONLY)
        print(os.pread(fd, 7, 1 << 20))
        break
other = open("m", "rb")
print(mmap.mmap(other.fileno(), 0, prot=mmap.PROT_READ)[1 << 20:(1 << 20) + 7])
)", {std::to_string(server)});
    EXPECT_EQ(output, "b'shared!'\nb'shared!'\n");
}

// The kernel would let a write grow the memfd: sealed, it refuses (EPERM
// from the seal, where mapfs answers ENOSPC), keeps what fits of a write
// that straddles the end, and the region keeps its size; truncate is
// refused (EBUSY). Before its first passed-through open the region still
// resizes; with passthrough=off it always does.
TEST_F(PassthroughTest, APassedThroughAnonymousRegionIsSealedAtItsSize) {
    mount_passing({"-w", "m:anon,size=1MiB", "-w", "free:anon,size=1MiB,passthrough=off", mnt.string()});
    const std::string output = python(R"(
os.truncate("m", 2 << 20)            # no open yet: a resize, as without passthrough
print(os.stat("m").st_size)
fd = os.open("m", os.O_RDWR)
for offset, count in ((2 << 20, 10), ((2 << 20) - 100, 200)):
    try:
        print(os.pwrite(fd, b"x" * count, offset))
    except OSError as e:
        print(errno.errorcode[e.errno])
print(os.fstat(fd).st_size, os.stat("m").st_size)
for resize in (lambda: os.ftruncate(fd, 4096), lambda: os.truncate("m", 3 << 20)):
    try:
        resize(); print("resized")
    except OSError as e:
        print(errno.errorcode[e.errno])
os.close(fd)
with open("free", "r+b") as f:
    f.truncate(3 << 20)
print(os.stat("free").st_size)
)");
    EXPECT_EQ(output, "2097152\nEPERM\n100\n2097152 2097152\nEBUSY\nEBUSY\n3145728\n");
    for (const RegionStatus& region : report().regions) {
        if (region.name == "m") {
            EXPECT_EQ(region.size_bytes, 2u << 20);
        }
    }
    EXPECT_TRUE(window("m").passthrough);
}

// The kernel ignores the window's size: an open made before the file grew
// reads on past the window (written down in docs/passthrough.md). New
// opens stop being passed through; while older ones stay open they are
// refused (the kernel will not mix the two on one inode), and once those
// are closed mapfs serves exactly the window. A reload shows the file
// whole again, passed through.
TEST_F(PassthroughTest, ABackingFileThatGrowsStopsBeingPassedThrough) {
    make_file();
    mount_config("[[region]]\nname = \"f\"\nfile = \"" + file.string() + "\"\n[[window]]\nname = \"r\"\nregion = \"f\"\naccess = \"read\"\n",
                 {"-o", "passthrough=auto"});
    const std::string output = python(R"(
old = os.open("r", os.O_RDONLY)
with open(sys.argv[1], "ab") as f:
    f.write(b"grown" * 1000)
print(len(os.pread(old, 65536, 1 << 20)))      # past the window: the kernel reads the file
try:
    open("r", "rb"); print("opened")
except OSError as e:
    print(errno.errorcode[e.errno])
os.close(old)
time.sleep(0.2)                                 # the kernel's RELEASE reaches mapfs
with open("r", "rb") as f:
    print(len(f.read()))
)", {file.string()});
    EXPECT_EQ(output, "5000\nEBUSY\n1048576\n");
    const WindowStatus seen = window("r");
    EXPECT_FALSE(seen.passthrough);
    EXPECT_NE(seen.passthrough_why_not.find("its file is"), std::string::npos) << seen.passthrough_why_not;
    EXPECT_NE(daemon->log().find("window 'r': its file changed size"), std::string::npos) << daemon->log();
    ok(quote(mapfs_binary()) + " reload " + quote(mnt.string()));
    EXPECT_TRUE(window("r").passthrough) << window("r").passthrough_why_not;
    EXPECT_EQ(window("r").length_bytes, (1u << 20) + 5000);
    ok("cmp mnt/r " + quote(file.string()));
}

// An inode's open files are served one way (the kernel's rule): after a
// reload turns passthrough off, opens made while passed-through ones stay
// open follow them; once those are closed, mapfs serves the window.
TEST_F(PassthroughTest, AReloadThatTurnsPassthroughOffWaitsForTheOpenFiles) {
    make_file();
    const std::string region = "[[region]]\nname = \"f\"\nfile = \"" + file.string() + "\"\n";
    const std::string window_config = "[[window]]\nname = \"r\"\nregion = \"f\"\naccess = \"read\"\n";
    mount_config(region + window_config, {"-o", "passthrough=auto"});
    const auto config = dir / "mapfs.toml";
    const std::string output = python(R"(
import json, subprocess
def report():
    return [x for x in json.load(open(".mapfs/status"))["windows"] if x["name"] == "r"][0]
held = open("r", "rb")
open(sys.argv[1], "a").write('passthrough = "off"\n')
subprocess.run([sys.argv[2], "reload", sys.argv[3]], check=True, capture_output=True)
second = open("r", "rb")
print(report()["passthrough"]["open_files"], report()["passthrough"]["why_not"])
held.close(); second.close()
time.sleep(0.2)
third = open("r", "rb")
print(report()["passthrough"]["open_files"], report()["open_handles"], len(third.read()))
)", {config.string(), mapfs_binary(), mnt.string()});
    EXPECT_EQ(output, "2 passthrough=off\n0 1 1048576\n");
}

// Pages FUSE cached for a window before it was passed through (cache=keep
// keeps them across opens) must not come back after writes the kernel
// served itself: a passed-through open drops them.
TEST_F(PassthroughTest, AWindowPassedThroughAndBackServesNoStalePages) {
    const std::string toml = "[[region]]\nname = \"m\"\nanon = true\nsize = \"1MiB\"\n"
                             "[[window]]\nname = \"m\"\nregion = \"m\"\ncache = \"keep\"\npassthrough = \"@\"\n";
    const auto with = [&](const std::string& choice) { return toml.substr(0, toml.find('@')) + choice + "\"\n"; };
    mount_config(with("off"));
    const std::string reload = quote(mapfs_binary()) + " reload " + quote(mnt.string());
    ok("printf AAAA | dd of=mnt/m conv=notrunc status=none && head -c 4 mnt/m > /dev/null");
    dir.write_file("mapfs.toml", with("auto"));
    ok(reload);
    ok("printf BBBB | dd of=mnt/m conv=notrunc status=none");
    EXPECT_EQ(window("m").passthrough_open_files, 0u);
    EXPECT_FALSE(window("m").counters_kept) << "the write was passed through";
    dir.write_file("mapfs.toml", with("off"));
    ok(reload);
    EXPECT_EQ(ok("head -c 4 mnt/m"), "BBBB");
}

// Backing ids belong to the connection: after kill -9 the next server
// names the same ids in the inodes' new opens (a new id would make the
// kernel fail them with EIO), open files and mappings go on, and the
// report still counts them.
TEST_F(PassthroughTest, ATakeoverKeepsEveryPassedThroughOpen) {
    if (forced_transport() == "uring") GTEST_SKIP() << "transport=uring gives the takeover up";
    make_file();
    mount_passing({"-w", whole_read_window(), "-w", "m:anon,size=1MiB", mnt.string()});
    const std::string output = python(R"(
import json, signal
def server():
    return json.load(open(".mapfs/status"))["pid"]
r = open("r", "rb"); f = open("m", "r+b"); m = mmap.mmap(f.fileno(), 0)
m[0:6] = b"before"
old = server()
os.kill(old, signal.SIGKILL)
while True:
    try:
        if server() != old: break
    except (OSError, ValueError):
        pass
    time.sleep(0.01)
m[6:11] = b"after"
again = open("r", "rb").read() == open(sys.argv[1], "rb").read()
with open("m", "rb") as g:
    print(again, r.read(4) == open(sys.argv[1], "rb").read(4), g.read(11))
w = {x["name"]: x for x in json.load(open(".mapfs/status"))["windows"]}
print(w["r"]["passthrough"]["open_files"], w["m"]["passthrough"]["open_files"], w["m"]["counters_kept"])
)", {file.string()});
    EXPECT_EQ(output, "True True b'beforeafter'\n1 1 False\n");
    EXPECT_EQ(report().takeovers, 1u);
}

// A handover (SIGUSR1: systemctl restart, mapfs upgrade) leaves the ids to
// the connection: the next server's new opens of an open inode name them.
TEST_F(PassthroughTest, AHandoverLeavesTheBackingIdsToTheNextServer) {
    if (forced_transport() == "uring") GTEST_SKIP() << "transport=uring gives the takeover up";
    make_file();
    mount_passing({"-w", whole_read_window(), mnt.string()});
    const std::string output = python(R"(
import json, signal
held = open("r", "rb")
old = json.load(open(".mapfs/status"))["pid"]
os.kill(old, signal.SIGUSR1)
while True:
    try:
        if json.load(open(".mapfs/status"))["pid"] != old: break
    except (OSError, ValueError):
        pass
    time.sleep(0.01)
print(len(open("r", "rb").read()), len(held.read()))
)");
    EXPECT_EQ(output, "1048576 1048576\n");
}

// fio writes and verifies random blocks of a passed-through anonymous
// window while the server is killed three times: the kernel serves the
// I/O itself, and the opens around it survive the takeovers.
TEST_F(PassthroughTest, FioVerifyOnAPassedThroughWindowPassesThroughKills) {
    if (forced_transport() == "uring") GTEST_SKIP() << "transport=uring gives the takeover up";
    mount_passing({"-w", "m:anon,size=64MiB", mnt.string()});
    std::thread killer([&] {
        for (int i = 0; i < 3; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(800));
            kill_server();
        }
    });
    const CommandResult fio = run("fio --name=verify --filename=" + quote(at("m").string()) +
                                  " --rw=randwrite --bs=4k --numjobs=2 --size=32M --offset_increment=32M"
                                  " --verify=crc32c --verify_backlog=64 --verify_fatal=1 --verify_state_save=0 --time_based"
                                  " --runtime=4 --group_reporting --output-format=json --output=fio.json",
                                  dir.path());
    killer.join();
    const std::string json = read_file(dir / "fio.json");
    ASSERT_EQ(fio.status, 0) << fio.output << json;
    EXPECT_NE(json.find("\"error\" : 0"), std::string::npos) << json;
    EXPECT_EQ(report().takeovers, 3u);
    EXPECT_FALSE(window("m").counters_kept) << "fio's I/O went through the kernel, not mapfs";
}

// Where mapfs lacks CAP_SYS_ADMIN in the initial user namespace (root of a
// user namespace here), the kernel refuses the backing file and mapfs
// serves every window itself, and says why.
TEST_F(PassthroughTest, WithoutCapSysAdminMapfsServesEveryWindowItself) {
    make_file();
    const CommandResult probe = run("unshare --user --map-root-user --mount true");
    if (probe.status != 0) GTEST_SKIP() << "no user namespace here: " << probe.output;
    ::chmod(dir.path().c_str(), 0755);
    // The mount lives and dies in the namespace's own mount table.
    const std::string script = R"(
"$1" -f -o nosupervisor -w "r:file=$2,access=read" "$3" & server=$!
for i in $(seq 100); do mountpoint -q "$3" && break; sleep 0.05; done
cmp "$3/r" "$2" && "$1" status --json "$3" > "$4"
fusermount3 -u "$3" || kill -9 $server
wait $server
)";
    const auto json = dir / "status.json";
    const CommandResult result = run("timeout -k 5 60 unshare --user --map-root-user --mount bash -c " + quote(script) +
                                     " mapfs " + quote(mapfs_binary()) + " " + quote(file.string()) + " " +
                                     quote(mnt.string()) + " " + quote(json.string()));
    std::string error;
    const auto parsed = parse_status_report(read_file(json), error);
    ASSERT_TRUE(parsed) << error << "\n" << result.output;
    EXPECT_FALSE(parsed->passthrough_available);
    EXPECT_NE(parsed->passthrough_unavailable_because.find("CAP_SYS_ADMIN"), std::string::npos)
        << parsed->passthrough_unavailable_because;
    ASSERT_EQ(parsed->windows.size(), 1u);
    EXPECT_TRUE(parsed->windows[0].counters_kept);
    EXPECT_GT(parsed->windows[0].reads, 0u) << "mapfs served the reads";
    EXPECT_FALSE(is_mounted(mnt));
}

}  // namespace
}  // namespace mapfs::testing
