// Takeover under the supervisor: the serving process is killed (or asked to
// hand over) and a new one serves the same mount. Clients see no error:
// fio's verify passes across ten kills, anonymous memory and open handles
// survive, inode numbers stay, a request the dead server had read is
// answered by the next one, and a crash loop ends with the mount given up.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

using Clock = std::chrono::steady_clock;

class TakeoverTest : public MountTest {
protected:
    void SetUp() override {
        if (forced_transport() == "uring")
            GTEST_SKIP() << "transport=uring gives the takeover up (README: Takeover)";
    }

    std::string status_field(const std::string& field) {
        return python("import json\nprint(json.load(open('.mapfs/status'))[sys.argv[1]])", {field});
    }
};

TEST_F(TakeoverTest, StatusNamesTheServerAndItsSupervisor) {
    mount_args({"-w", "a:anon,size=4096", mnt.string()});
    EXPECT_EQ(status_field("supervisor_pid"), std::to_string(daemon->pid()) + "\n");
    EXPECT_EQ(status_field("failover"), "supervisor\n");
    EXPECT_EQ(status_field("takeovers"), "0\n");
    EXPECT_EQ(status_field("resend"), "True\n") << "this kernel (6.18) has FUSE_NOTIFY_RESEND";
    const std::string text = ok(quote(mapfs_binary()) + " status " + quote(mnt.string()));
    EXPECT_NE(text.find("supervisor pid " + std::to_string(daemon->pid()) + ", 0 takeovers"), std::string::npos) << text;
}

// Four fio jobs write and verify (crc32c) random 4 KiB blocks while the
// server is killed ten times. The requests a dead server had read come
// again (RESEND); a write done twice writes the same bytes.
TEST_F(TakeoverTest, FioVerifyPassesWhileTheServerIsKilledTenTimes) {
    ok("truncate -s 64M disk.img");
    mount_args({"-w", "w:file=" + (dir / "disk.img").string() + ",access=write", mnt.string()});
    std::atomic<bool> killing_done{false};
    int takeovers = 0;
    std::thread killer([&] {
        for (int i = 0; i < 10; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(600));
            if (kill_server() > 0) ++takeovers;
        }
        killing_done = true;
    });
    const CommandResult fio = run("fio --name=verify --filename=" + quote(at("w").string()) +
                                  " --rw=randwrite --bs=4k --numjobs=4 --size=16M --offset_increment=16M"
                                  " --verify=crc32c --verify_backlog=64 --verify_fatal=1 --verify_state_save=0 --time_based --runtime=9"
                                  " --group_reporting --output-format=json --output=fio.json",
                                  dir.path());
    killer.join();
    EXPECT_EQ(takeovers, 10);
    const std::string report = read_file(dir / "fio.json");
    ASSERT_EQ(fio.status, 0) << fio.output << report;
    EXPECT_NE(report.find("\"error\" : 0"), std::string::npos) << report;
    EXPECT_EQ(status_field("takeovers"), "10\n");
    // The longest any request waited, reads (verify) and writes: no hang.
    const std::string longest = ok("python3 -c 'import json; t = open(\"fio.json\").read(); j = json.loads(t[t.index(\"{\"):]); "
                                   "print(max(max(x[\"read\"][\"clat_ns\"][\"max\"], x[\"write\"][\"clat_ns\"][\"max\"]) "
                                   "for x in j[\"jobs\"]) / 1e9)'");
    std::cout << "longest request across ten takeovers: " << longest << " s\n";
    EXPECT_LT(std::stod(longest), 5.0) << "a request hung across a takeover";
}

TEST_F(TakeoverTest, AnonymousMemoryAndInodeNumbersSurviveATakeover) {
    mount_args({"-w", "m:anon,size=64MiB", "-w", "dir/n:anon,size=4096", mnt.string()});
    ok("head -c 64M /dev/urandom > bytes && dd if=bytes of=mnt/m bs=1M conv=notrunc status=none");
    const std::string inodes = ok("stat -c '%n %i' mnt/m mnt/dir mnt/dir/n");
    kill_server();
    ok("cmp bytes mnt/m");
    EXPECT_EQ(ok("stat -c '%n %i' mnt/m mnt/dir mnt/dir/n"), inodes);
    EXPECT_EQ(status_field("takeovers"), "1\n");
}

// The server that takes over reads the configuration again; edited since
// the mount (a window added in front, no reload), it must still give the
// windows the kernel knows their numbers, which only the handover state
// holds: numbered afresh, the kernel's "a" would be served as "A".
TEST_F(TakeoverTest, InodeNumbersStayWhenTheConfigurationChangedBeforeTheCrash) {
    const std::string region = "[[region]]\nname = \"m\"\nanon = true\nsize = \"1MiB\"\n";
    const auto window = [](const std::string& name, int offset) {
        return "[[window]]\nname = \"" + name + "\"\nregion = \"m\"\noffset = " + std::to_string(offset) +
               "\nlength = 4096\n";
    };
    mount_config(region + window("a", 0) + window("b", 4096));
    ok("printf content-a > mnt/a && printf content-b > mnt/b");
    const std::string inodes = ok("stat -c '%n %i' mnt/a mnt/b");
    dir.write_file("mapfs.toml", region + window("A", 8192) + window("a", 0) + window("b", 4096));
    kill_server();
    EXPECT_EQ(ok("stat -c '%n %i' mnt/a mnt/b"), inodes);
    EXPECT_EQ(ok("head -c 9 mnt/a; head -c 9 mnt/b"), "content-acontent-b");
    EXPECT_EQ(ok("ls mnt | sort"), "A\na\nb\n");
    EXPECT_EQ(ok("tr -d '\\0' < mnt/A | wc -c"), "0\n") << "the new window is not zeros";
}

// A descriptor opened before the kill reads and writes after it, through
// read/write and through a mapping made before it.
TEST_F(TakeoverTest, HandlesOpenBeforeATakeoverKeepWorking) {
    backing("disk.img", std::string(1 << 20, 'a'));
    mount_args({"-w", "w:file=" + (dir / "disk.img").string() + ",access=write", "-w", "s:anon,size=8192", mnt.string()});
    const std::string output = python(R"(
import json, signal
def server():
    return json.load(open('.mapfs/status'))['pid']
fd = os.open('w', os.O_RDWR)
status = os.open('.mapfs/status', os.O_RDONLY)
mapped = mmap.mmap(fd, 1 << 20)
os.pwrite(fd, b'before', 0)
old = server()
os.kill(old, signal.SIGKILL)
deadline = time.time() + 20
while time.time() < deadline:
    try:
        if server() != old: break
    except OSError: pass
    time.sleep(0.01)
print(os.pread(fd, 6, 0))
os.pwrite(fd, b'after!', 4096)
mapped[8192:8197] = b'store'
mapped.flush()
print(os.pread(fd, 6, 4096), os.pread(fd, 5, 8192), mapped[0:6])
print(len(os.pread(status, 100, 0)) > 0)
os.close(fd)
os.close(status)
)");
    EXPECT_EQ(output, "b'before'\nb'after!' b'store' b'before'\nTrue\n");
    EXPECT_EQ(read_file(dir / "disk.img").substr(4096, 6), "after!");
    EXPECT_EQ(read_file(dir / "disk.img").substr(8192, 5), "store");
}

TEST_F(TakeoverTest, TenTakeoversInARowKeepTheMountAndItsNumbers) {
    backing("disk.img", pattern_bytes(1 << 20, 7));
    mount_args({"-w", "a:file=" + (dir / "disk.img").string() + ",length=512KiB", "-w",
                "b:file=" + (dir / "disk.img").string() + ",offset=512KiB", mnt.string()});
    const std::string listing = ok("ls -li mnt");
    for (int i = 0; i < 10; ++i) ASSERT_GT(kill_server(), 0) << "takeover " << i + 1;
    EXPECT_EQ(ok("ls -li mnt"), listing);
    ok("cat mnt/a mnt/b | cmp - disk.img");
    EXPECT_EQ(status_field("takeovers"), "10\n");
    EXPECT_EQ(status_field("supervisor_pid"), std::to_string(daemon->pid()) + "\n");
    EXPECT_EQ(daemon->unmount(), 0);
}

// The server reads a request and cannot answer it (its mapping faults on a
// file of a stopped FUSE mount); it is killed. The next server is sent the
// request again and answers it: the reader gets its bytes, no error.
TEST_F(TakeoverTest, ARequestTheDeadServerHadReadIsAnsweredByTheNext) {
    const std::filesystem::path inner_mnt = dir / "inner";
    std::filesystem::create_directory(inner_mnt);
    const std::string bytes = pattern_bytes(65536, 3);
    const auto inner_file = backing("inner.img", bytes);
    MountedMapfs inner({inner_file.string(), inner_mnt.string(), "-o", "nosupervisor"}, inner_mnt, dir / "inner.log");
    ASSERT_TRUE(inner.live()) << inner.log();
    mount_args({"-w", "s:file=" + (inner_mnt / "inner.img").string() + ",access=read,cache=none", mnt.string()});
    ASSERT_EQ(::kill(inner.pid(), SIGSTOP), 0);
    struct Resume {
        pid_t pid;
        ~Resume() { ::kill(pid, SIGCONT); }
    } resume{inner.pid()};
    const std::string tasks = "/proc/" + std::to_string(inner.pid()) + "/task/";
    for (int i = 0; i < 500; ++i) {
        if (run("for t in " + tasks + "*; do cut -d' ' -f3 $t/stat; done | grep -qv '^t$\\|^T$'").status != 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CommandResult reader;
    std::thread reading([&] { reader = run("timeout 60 dd if=" + quote(at("s").string()) + " bs=64k count=1 status=none | sha256sum"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the read is in the server, stuck on `inner`
    const pid_t old = daemon->server_pid();
    ASSERT_GT(old, 0);
    ASSERT_EQ(::kill(old, SIGKILL), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(inner.pid(), SIGCONT);
    reading.join();
    EXPECT_EQ(reader.status, 0) << reader.output;
    EXPECT_EQ(reader.output, run("head -c 65536 " + quote(inner_file.string()) + " | sha256sum").output);
    EXPECT_GT(wait_for_new_server(old), 0);
    EXPECT_EQ(daemon->unmount(), 0);
}

// mapfs upgrade: the binary mapfs was started from is replaced (as dpkg
// does, by renaming a new file over it); the new server runs the new file,
// while cat streams the window without an error.
TEST_F(TakeoverTest, UpgradeHandsTheMountToTheInstalledBinaryWhileCatStreams) {
    ok("cp " + quote(mapfs_binary()) + " installed-mapfs");
    ok("head -c 256M /dev/urandom > big.img");
    // Started from the copy, as if it were the installed binary.
    const CommandResult started = run("./installed-mapfs -w big:file=" + quote((dir / "big.img").string()) +
                                      ",access=read,cache=none " + quote(mnt.string()), dir.path());
    ASSERT_EQ(started.status, 0) << started.output;
    struct Unmount {
        std::filesystem::path where;
        ~Unmount() { run("fusermount3 -u " + quote(where.string()) + " 2>/dev/null || fusermount3 -uz " + quote(where.string()) + " 2>/dev/null"); }
    } unmount{mnt};
    const std::string pid_of = "python3 -c 'import json; print(json.load(open(\"mnt/.mapfs/status\"))[\"pid\"])'";
    const std::string old = ok(pid_of);
    ok("cp installed-mapfs new-mapfs && mv new-mapfs installed-mapfs");
    CommandResult copy;
    std::thread streaming([&] { copy = run("cat mnt/big > copy.img", dir.path()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const CommandResult upgrade = run("./installed-mapfs upgrade mnt", dir.path());
    streaming.join();
    EXPECT_EQ(upgrade.status, 0) << upgrade.output;
    EXPECT_NE(upgrade.output.find("handed the mount over to pid"), std::string::npos) << upgrade.output;
    EXPECT_EQ(copy.status, 0) << copy.output;
    ok("cmp big.img copy.img");
    const std::string fresh = ok(pid_of);
    EXPECT_NE(fresh, old);
    const std::string exe = ok("readlink /proc/" + fresh.substr(0, fresh.size() - 1) + "/exe");
    EXPECT_EQ(exe, (dir / "installed-mapfs").string() + "\n") << "the new server must run the new file";
    // The supervisor (same pid) runs the new file too: nothing is left on
    // the replaced one.
    const std::string supervisor = ok("python3 -c 'import json; print(json.load(open(\"mnt/.mapfs/status\"))[\"supervisor_pid\"])'");
    EXPECT_EQ(ok("readlink /proc/" + supervisor.substr(0, supervisor.size() - 1) + "/exe"), (dir / "installed-mapfs").string() + "\n");
}

// mapfs upgrade --all, as the package's postinst runs it: every mount
// whose mapfs runs a replaced binary moves to the installed one, while a
// reader streams through both, and nothing runs the old file afterwards.
TEST_F(TakeoverTest, UpgradeAllMovesEveryMountOfAReplacedBinary) {
    ok("cp " + quote(mapfs_binary()) + " installed-mapfs && mkdir mnt2");
    const auto disk = backing("disk.img", pattern_bytes(4 << 20, 17));
    struct Unmount {
        std::vector<std::filesystem::path> where;
        ~Unmount() {
            for (const auto& path : where)
                run("fusermount3 -u " + quote(path.string()) + " 2>/dev/null || fusermount3 -uz " + quote(path.string()) + " 2>/dev/null");
        }
    } unmount{{mnt, dir / "mnt2"}};
    for (const char* where : {"mnt", "mnt2"}) {
        const CommandResult started = run("./installed-mapfs -w w:file=" + quote(disk.string()) + ",access=read " + where, dir.path());
        ASSERT_EQ(started.status, 0) << started.output;
    }
    // What every process started from this test's copy runs now.
    const std::string mapfs_processes = "for p in /proc/[0-9]*; do l=$(readlink $p/exe 2>/dev/null) || continue; case $l in " +
                                        dir.path().string() + "/*) echo \"$l\";; esac; done | sort";
    // Two supervisors and their servers.
    std::string expected;
    for (int i = 0; i < 4; ++i) expected += (dir / "installed-mapfs").string() + "\n";
    EXPECT_EQ(ok(mapfs_processes), expected);
    ok("cp installed-mapfs new-mapfs && mv new-mapfs installed-mapfs");
    CommandResult reader;
    std::thread streaming([&] {
        reader = run("python3 -c '\nimport os, time\nfds = [os.open(p, os.O_RDONLY) for p in (\"mnt/w\", \"mnt2/w\")]\n"
                     "end = time.time() + 3\nwhile time.time() < end:\n    for fd in fds: assert len(os.pread(fd, 65536, 0)) == 65536\n"
                     "print(\"read\")'", dir.path());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const CommandResult upgrade = run("./installed-mapfs upgrade --all", dir.path());
    streaming.join();
    EXPECT_EQ(upgrade.status, 0) << upgrade.output;
    EXPECT_EQ(reader.output, "read\n") << "a reader saw an error across the upgrade";
    std::size_t moved = 0;
    for (std::size_t at = 0; (at = upgrade.output.find("now run", at)) != std::string::npos; ++at) ++moved;
    EXPECT_EQ(moved, 2u) << upgrade.output;
    EXPECT_EQ(ok(mapfs_processes), expected) << "a mapfs still runs the replaced file (deleted)";
    EXPECT_EQ(ok("cmp mnt/w disk.img && cmp mnt2/w disk.img && echo same"), "same\n");
    const CommandResult again = run("./installed-mapfs upgrade --all", dir.path());
    EXPECT_EQ(again.status, 0) << again.output;
    EXPECT_NE(again.output.find("no mapfs outside systemd runs a replaced"), std::string::npos) << again.output;
}

// Change without loss: a configuration edited before `mapfs upgrade` (or
// a crash) is a reload as well, by the one window identity.

// A handle on a window the new server no longer has answers EBADF; its
// number goes to no other open, so the old descriptor can never write into
// another window's file.
TEST_F(TakeoverTest, AnOldHandleOnARemovedWindowIsEbadfNeverAnotherWindow) {
    const auto x = backing("x.img", std::string(8192, 'x'));
    const auto y = backing("y.img", std::string(8192, 'y'));
    const std::string both = "[[region]]\nname = \"x\"\nfile = \"" + x.string() + "\"\n[[region]]\nname = \"y\"\nfile = \"" +
                             y.string() + "\"\n[[window]]\nname = \"x\"\nregion = \"x\"\naccess = \"write\"\n";
    const std::string y_window = "[[window]]\nname = \"y\"\nregion = \"y\"\naccess = \"write\"\n";
    mount_config(both + y_window);
    EXPECT_EQ(python(R"(
import subprocess
old = os.open("x", os.O_RDWR)
with open(sys.argv[1], "w") as f: f.write(sys.argv[2])          # x leaves the configuration
subprocess.run([sys.argv[3], "upgrade", "."], check=True, capture_output=True)
other = os.open("y", os.O_RDWR)                                   # an open after the takeover
try:
    os.pwrite(old, b"OLDHANDL", 0); print("written")
except OSError as e:
    print(errno.errorcode[e.errno])
print(os.pread(other, 8, 0))
)", {(dir / "mapfs.toml").string(), both.substr(0, both.find("[[window]]")) + y_window, mapfs_binary()}),
              "EBADF\nb'yyyyyyyy'\n");
    EXPECT_EQ(read_file(y).substr(0, 8), "yyyyyyyy") << "the old handle wrote into y.img";
    EXPECT_EQ(read_file(x).substr(0, 8), "xxxxxxxx");
}

// A changed window is another window for the kernel: after the takeover it
// lists with its new size and reads, at once.
TEST_F(TakeoverTest, AWindowChangedBeforeATakeoverShowsAsItIsNow) {
    const auto disk = backing("disk.img", pattern_bytes(1 << 20, 31));
    const auto config = [&](int length) {
        return "[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n[[window]]\nname = \"w\"\nregion = \"d\"\nlength = " +
               std::to_string(length) + "\n";
    };
    mount_config(config(4096));
    EXPECT_EQ(ok("stat -c %s mnt/w && cat mnt/w | wc -c"), "4096\n4096\n");  // the kernel caches both
    dir.write_file("mapfs.toml", config(65536));
    ok(quote(mapfs_binary()) + " upgrade mnt");
    EXPECT_EQ(ok("ls -l mnt | awk '$9 == \"w\" {print $5}' && cat mnt/w | wc -c"), "65536\n65536\n");
}

// A mode tightened before a takeover holds at once: the window keeps its
// number (it shows the same bytes), and the kernel fetches its attributes
// again, so the next open is checked against the new mode.
TEST_F(TakeoverTest, AModeTightenedBeforeATakeoverHoldsAtOnce) {
    ::chmod(dir.path().c_str(), 0755);
    const auto disk = backing("disk.img", pattern_bytes(65536, 32));
    const auto config = [&](const char* mode) {
        return "[options]\nallow_other = true\n[[region]]\nname = \"d\"\nfile = \"" + disk.string() +
               "\"\n[[window]]\nname = \"w\"\nregion = \"d\"\naccess = \"write\"\nmode = \"" + mode + "\"\n";
    };
    mount_config(config("0666"));
    const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    const std::string window = quote(at("w").string());
    EXPECT_EQ(run(as_nobody + "cat " + window + " | wc -c").output, "65536\n");
    const std::string before = ok("stat -c %i " + window);
    dir.write_file("mapfs.toml", config("0600"));
    ok(quote(mapfs_binary()) + " upgrade mnt");
    EXPECT_EQ(ok("stat -c %i " + window), before) << "the same window keeps its number";
    const CommandResult read = run(as_nobody + "cat " + window + " > /dev/null");
    EXPECT_NE(read.status, 0);
    EXPECT_NE(read.output.find("Permission denied"), std::string::npos) << read.output;
    const CommandResult write = run(as_nobody + "dd if=/dev/zero of=" + window + " bs=1 count=1 conv=notrunc");
    EXPECT_NE(write.output.find("Permission denied"), std::string::npos) << write.output;
    EXPECT_EQ(run(quote(mapfs_binary()) + " reload mnt", dir.path()).status, 0);
    EXPECT_NE(run(as_nobody + "cat " + window + " > /dev/null").output.find("Permission denied"), std::string::npos);
    EXPECT_EQ(read_file(disk), pattern_bytes(65536, 32));
}

// A typo in the file: a reload refuses it, `mapfs upgrade` refuses at once
// with the reasons, and a server that takes over anyway (a crash) serves
// the last good configuration: the mount and the anonymous bytes stay.
TEST_F(TakeoverTest, ATypoLosesNeitherTheMountNorTheMemory) {
    const std::string good = "[[region]]\nname = \"m\"\nanon = true\nsize = \"1MiB\"\n[[window]]\nname = \"m\"\nregion = \"m\"\naccess = \"write\"\n";
    mount_config(good);
    ok("printf 'KEEP-THESE-BYTES' | dd of=mnt/m conv=notrunc status=none");
    std::string typo = good;
    typo.replace(typo.find("access = \"write\""), 16, "access = \"wirte\"");
    dir.write_file("mapfs.toml", typo);
    const CommandResult reload = run(quote(mapfs_binary()) + " reload mnt", dir.path());
    EXPECT_EQ(reload.status, 1) << reload.output;
    const auto started = Clock::now();
    const CommandResult upgrade = run(quote(mapfs_binary()) + " upgrade mnt", dir.path());
    EXPECT_EQ(upgrade.status, 2) << upgrade.output;
    EXPECT_NE(upgrade.output.find("wirte"), std::string::npos) << upgrade.output;
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(10)) << "mapfs upgrade must answer at once";
    EXPECT_EQ(ok("head -c 16 mnt/m"), "KEEP-THESE-BYTES");
    // A crash now: the next server finds the typo and serves the last good one.
    const pid_t fresh = kill_server();
    ASSERT_GT(fresh, 0);
    EXPECT_EQ(ok("head -c 16 mnt/m"), "KEEP-THESE-BYTES");
    EXPECT_EQ(status_field("takeovers"), "1\n");
    const std::string report = python("import json\nr = json.load(open('.mapfs/status'))['reloads']\nprint(r['last_accepted'], r['last_message'])");
    EXPECT_EQ(report.rfind("False at takeover: ", 0), 0u) << report;
    EXPECT_NE(report.find("wirte"), std::string::npos) << report;
    EXPECT_NE(daemon->log().find("the configuration is rejected, the one the previous server accepted serves instead"),
              std::string::npos) << daemon->log();
    // Mended, a reload takes it.
    dir.write_file("mapfs.toml", good);
    EXPECT_EQ(run(quote(mapfs_binary()) + " reload mnt", dir.path()).status, 0);
    EXPECT_EQ(ok("head -c 16 mnt/m"), "KEEP-THESE-BYTES");
}

// A server that dies again and again (a request that kills every server it
// reaches would do that) ends with the mount given up: detached, and the
// supervisor gone with status 1, instead of an endless loop.
TEST_F(TakeoverTest, ACrashLoopGivesTheMountUp) {
    mount_args({"-w", "a:anon,size=4096", mnt.string()});
    int kills = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(50);
    while (kills < 40 && Clock::now() < deadline && daemon->wait_for_exit(1) < 0) {
        const pid_t server = daemon->server_pid();
        if (server > 0 && ::kill(server, SIGKILL) == 0) ++kills;
        wait_for_new_server(server, 2000);
    }
    EXPECT_EQ(daemon->wait_for_exit(10000), 1);
    EXPECT_EQ(kills, 21) << "the limit is 20 takeovers in 60 s";
    EXPECT_NE(daemon->log().find("giving the mount"), std::string::npos) << daemon->log();
    EXPECT_FALSE(is_mounted(mnt));
}

}  // namespace
}  // namespace mapfs::testing
