// The command line for real: bad input, whole-file SOURCE, -w specs,
// daemon mode, signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

class CliTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::string original = pattern_bytes(3 << 20, 41);

    void SetUp() override { disk = backing("disk.img", original); }

    CommandResult mapfs(const std::string& arguments) {
        return run(quote(mapfs_binary()) + " " + arguments, dir.path());
    }

    // Bad input: exit 2, the expected words in the message, nothing mounted,
    // the backing file unchanged.
    void expect_rejected(const std::string& arguments, const std::vector<std::string>& words) {
        const CommandResult result = mapfs(arguments + " -f");
        EXPECT_EQ(result.status, 2) << "mapfs " << arguments << "\n" << result.output;
        for (const std::string& word : words)
            EXPECT_NE(result.output.find(word), std::string::npos) << "mapfs " << arguments << ": no \"" << word << "\" in\n" << result.output;
        EXPECT_FALSE(is_mounted(mnt));
        EXPECT_EQ(std::filesystem::file_size(disk), original.size());
        EXPECT_TRUE(read_file(disk) == original) << "mapfs " << arguments << " changed the backing file";
    }
};

// -o max_read=N reaches the kernel, and INIT tells libfuse the same (it
// refused the connection otherwise, and the mount answered nothing);
// a size the kernel could not read is refused at start.
TEST_F(CliTest, MaxReadLimitsReadsAndTheMountAnswers) {
    mount_args({"-o", "max_read=64KiB", disk.string(), mnt.string()});
    ok("cmp " + quote(at("disk.img").string()) + " " + quote(disk.string()));
    EXPECT_NE(read_file("/proc/self/mountinfo").find("max_read=65536"), std::string::npos);
    EXPECT_EQ(daemon->unmount(), 0);
    expect_rejected("-o max_read=lots disk.img mnt", {"option \"max_read\""});
    expect_rejected("-o max_read=0 disk.img mnt", {"option \"max_read\"", "more than 0"});
}

// Every -o option the manual names mounts and serves (or has no effect),
// on either release's libfuse: none may leave a mount that answers nothing
// or fail with libfuse's "unknown option".
TEST_F(CliTest, EveryDocumentedMountOptionMounts) {
    for (const std::string option :
         {"noexec", "exec", "noatime", "atime", "relatime", "norelatime", "strictatime", "nodiratime", "diratime", "sync",
          "async", "dirsync", "allow_root", "auto_unmount", "allow_other", "ro", "rw", "uid=1", "gid=1", "umask=022",
          "fsname=x", "max_read=4096", "cache=none", "cache=keep", "cache=cto", "cache=auto", "status=everyone",
          "passthrough=off", "passthrough=auto", "transport=dev", "log_level=warn", "defaults", "nofail", "_netdev", "user",
          "users", "owner", "group", "default_permissions", "nosuid", "suid", "nodev", "dev", "overmount", "detach_stale",
          "x-mount.mkdir", "comment=x", "nosupervisor"}) {
        mount_args({"-o", option, disk.string(), mnt.string()});
        if (HasFatalFailure()) return;
        EXPECT_EQ(run("cmp " + quote(at("disk.img").string()) + " " + quote(disk.string())).status, 0) << "-o " << option;
        EXPECT_EQ(daemon->unmount(), 0) << "-o " << option;
    }
}

TEST_F(CliTest, HelpAndVersion) {
    const CommandResult help = mapfs("--help");
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.output.find("usage: mapfs"), std::string::npos);
    EXPECT_NE(help.output.find("--window"), std::string::npos);
    const CommandResult version = mapfs("--version");
    EXPECT_EQ(version.status, 0);
    EXPECT_EQ(version.output.rfind("mapfs ", 0), 0u) << version.output;
}

TEST_F(CliTest, BadInputExitsTwoAndTouchesNothing) {
    expect_rejected("missing.img mnt", {"missing.img", "No such file"});
    expect_rejected("disk.img mnt -w 'p1:offset=1MiB,length=12XB'", {"-w 'p1:offset=1MiB,length=12XB'", "length", "12XB"});
    expect_rejected("disk.img mnt -w 'p1:offset=4MiB'", {"window \"p1\"", "offset", "past the end"});
    expect_rejected("disk.img mnt -w 'p1:offset=1MiB,length=3MiB'", {"window \"p1\"", "length", "past the end"});
    expect_rejected("disk.img mnt -w 'p1:offset=1,length=18446744073709551615'", {"overflows"});
    expect_rejected("disk.img mnt -w 'p1:acess=read'", {"unknown key \"acess\"", "did you mean \"access\""});
    expect_rejected("disk.img mnt -w 'p1:access=rw'", {"access", "read, write or copy"});
    expect_rejected("disk.img mnt -w '../p1:length=1'", {"\"..\""});
    expect_rejected("disk.img mnt -w 'disk.img:length=1'", {"same name"});
    expect_rejected("disk.img mnt -o cache=sometimes", {"cache", "sometimes"});
    expect_rejected("disk.img mnt -o bogus", {"unknown mount option \"bogus\""});
    expect_rejected("disk.img nowhere", {"nowhere", "No such file"});
    expect_rejected("disk.img disk.img", {"not a directory"});
    expect_rejected("disk.img", {"missing MOUNTPOINT"});
    expect_rejected("disk.img mnt --frobnicate", {"--frobnicate"});
    dir.write_file("bad.toml", "[[window]]\nname = \"w\"\nregion = \"nope\"\nsize = 3\n");
    expect_rejected("bad.toml mnt", {"bad.toml:1", "unknown key \"size\"", "no region named \"nope\""});
}

// A file that opens but cannot be mapped shared (sysfs attributes, as a
// FUSE mount with direct I/O): exit 3, the file and the likely cause named.
TEST_F(CliTest, AFileThatCannotBeMappedIsNamedWithTheLikelyCause) {
    const std::string unmappable = "/sys/kernel/mm/transparent_hugepage/enabled";
    if (::access(unmappable.c_str(), R_OK) != 0) GTEST_SKIP() << unmappable << " is not readable here";
    const CommandResult result = mapfs(quote(unmappable) + " mnt -f");
    EXPECT_EQ(result.status, 3) << result.output;
    for (const std::string& word : {unmappable, std::string("No such device"), std::string("direct I/O")})
        EXPECT_NE(result.output.find(word), std::string::npos) << "no \"" << word << "\" in\n" << result.output;
    EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(CliTest, BackingFileSourceIsShownWholePlusWindowSpecs) {
    mount_args({disk.string(), mnt.string(), "-w", "p1:offset=1MiB,length=4KiB,access=read",
                "-w", "sub/cow:offset=12345,length=100,access=copy", "-w", "scratch:anon,size=1MiB"});
    EXPECT_EQ(ok("ls -R " + quote(mnt.string()) + " | grep -v '^$' | tr '\\n' ' '"),
              mnt.string() + ": disk.img p1 scratch sub " + (mnt / "sub").string() + ": cow ");
    ok("cmp disk.img " + quote(at("disk.img").string()));
    EXPECT_EQ(ok("stat -c '%s %a' " + quote(at("disk.img").string())), std::to_string(original.size()) + " 644\n");
    EXPECT_EQ(ok("stat -c '%s %a' " + quote(at("p1").string())), "4096 444\n");
    EXPECT_EQ(sha256_of_range(at("sub/cow"), 0, 100), sha256_of_range(disk, 12345, 100));
    EXPECT_EQ(ok("stat -c %s " + quote(at("scratch").string())), "1048576\n");
    EXPECT_EQ(daemon->unmount(), 0);
}

TEST_F(CliTest, MountOptionsSetOwnerModeAndCache) {
    mount_args({disk.string(), mnt.string(), "-o", "uid=1234,gid=4321,umask=027,cache=none,nosuid,nodev,noatime,nofail,_netdev,x-systemd.automount",
                "-w", "r:offset=0,length=4KiB,access=read"});
    EXPECT_EQ(ok("stat -c '%a %u %g' " + quote(at("disk.img").string()) + " " + quote(at("r").string()) + " " + quote(mnt.string())),
              "640 1234 4321\n440 1234 4321\n755 1234 4321\n");
    EXPECT_NE(ok("grep " + quote(" " + mnt.string() + " ") + " /proc/mounts").find("nosuid,nodev,noatime"), std::string::npos);
    // cache=none: client shared mmap is refused, which proves direct I/O.
    EXPECT_EQ(python("f = open('disk.img', 'r+b')\ntry:\n    mmap.mmap(f.fileno(), 0); print('mapped')\nexcept OSError as e:\n    print(e.errno)\n"),
              "19\n");
}

TEST_F(CliTest, DaemonModeReturnsOnceMountedAndStopsOnUnmount) {
    const CommandResult started = mapfs("disk.img mnt");
    ASSERT_EQ(started.status, 0) << started.output;
    ASSERT_TRUE(is_mounted(mnt)) << "mapfs returned before the mount was live";
    ok("cmp disk.img " + quote(at("disk.img").string()));
    // Anchored: the shells running this command mention the same words.
    const std::string find_daemon = "pgrep -f -- " + quote("^" + mapfs_binary() + " disk.img mnt$");
    // The supervisor and the server it started, both in the background.
    const std::string running = run(find_daemon).output;
    EXPECT_EQ(std::count(running.begin(), running.end(), '\n'), 2) << "expected a supervisor and a server, found: " << running;
    const CommandResult status = run(quote(mapfs_binary()) + " status --json " + quote(mnt.string()));
    EXPECT_NE(status.output.find("\"failover\": \"supervisor\""), std::string::npos) << status.output;
    ok("fusermount3 -u " + quote(mnt.string()));
    // The daemon exits once unmounted: no mapfs process serves this mount point.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string left;
    do {
        left = run(find_daemon).output;
        if (left.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(left, "") << "a daemon for " << mnt << " is still running";
}

// In the background stderr is /dev/null, so the log must go to syslog. The
// daemon runs in a mount namespace of its own whose /dev/log is a socket
// this test reads (the machine may have no syslog daemon at all).
TEST_F(CliTest, BackgroundDaemonLogsToSyslog) {
    const std::string script = R"SH(
set -u
T=$1; BIN=$2; pid=
trap 'umount $T/mnt 2>/dev/null; [ -n "$pid" ] && kill -9 $pid 2>/dev/null; wait' EXIT
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(0.2)
out = open(sys.argv[2], "w"); deadline = time.time() + 20
while time.time() < deadline:
    try: line = s.recv(4096).decode(errors="replace")
    except socket.timeout: continue
    out.write(line + "\n"); out.flush()
    if "reloaded" in line: break
' $T/log.sock $T/syslog.txt &
for i in $(seq 100); do [ -S $T/log.sock ] && break; sleep 0.05; done
touch $T/fuse $T/null
mount --bind /dev/fuse $T/fuse && mount --bind /dev/null $T/null
mount -t tmpfs mapfs-test-dev /dev
touch /dev/fuse /dev/null /dev/log
mount --bind $T/fuse /dev/fuse && mount --bind $T/null /dev/null && mount --bind $T/log.sock /dev/log
"$BIN" $T/disk.img $T/mnt || exit 3
for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline 2>/dev/null | grep -q "^$BIN $T/disk.img $T/mnt" && pid=${p#/proc/}; done
[ -n "$pid" ] || exit 4
kill -HUP $pid
for i in $(seq 100); do grep -q reloaded $T/syslog.txt && break; sleep 0.05; done
umount $T/mnt
for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -0 $pid 2>/dev/null && exit 5
pid=
cat $T/syslog.txt
)SH";
    const CommandResult result = run("timeout 60 unshare -m --propagation private bash -c " + quote(script) + " _ " +
                                     quote(dir.path().string()) + " " + quote(mapfs_binary()));
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("mapfs["), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("reloaded: 1 region, 1 window on " + mnt.string()), std::string::npos) << result.output;
    EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(CliTest, SigtermAndSigintUnmountAndExitZero) {
    for (const int signal : {SIGTERM, SIGINT}) {
        mount_args({disk.string(), mnt.string()});
        ok("printf STOPPED | dd of=" + quote(at("disk.img").string()) + " conv=notrunc status=none");
        ASSERT_EQ(::kill(daemon->pid(), signal), 0);
        EXPECT_EQ(daemon->wait_for_exit(10000), 0) << "signal " << signal;
        EXPECT_FALSE(is_mounted(mnt)) << "signal " << signal;
        EXPECT_EQ(read_file(disk).substr(0, 7), "STOPPED");
        daemon.reset();
    }
}

}  // namespace
}  // namespace mapfs::testing

namespace mapfs::testing {
namespace {

TEST_F(MountTest, AConfigurationWithoutWindowsMountsEmptyWithAWarning) {
    mount_config("[options]\ncache = \"auto\"\n");
    EXPECT_EQ(ok("ls mnt"), "");
    EXPECT_NE(daemon->log().find("warning: the configuration has no windows: the mount will be empty"), std::string::npos)
        << daemon->log();
    EXPECT_NE(daemon->log().find("mounted 0 regions, 0 windows"), std::string::npos) << daemon->log();
}

}  // namespace
}  // namespace mapfs::testing

namespace mapfs::testing {
namespace {

// Under systemd, stderr is the journal (JOURNAL_STREAM names it): each line
// carries its syslog priority, so `journalctl -p err` shows mapfs's errors.
// On a terminal or in a file, the text is plain.
TEST_F(CliTest, UnderTheJournalEveryErrorLineCarriesErrorPriority) {
    ok("touch journal.txt plain.txt");
    const std::string as_journal = "JOURNAL_STREAM=$(stat -c %d:%i journal.txt) ";
    EXPECT_EQ(run(as_journal + quote(mapfs_binary()) + " disk.img mnt -f -o bogus -w 'p:acess=read' 2>>journal.txt", dir.path()).status, 2);
    EXPECT_EQ(run(as_journal + quote(mapfs_binary()) + " status " + quote(dir.path().string()) + " 2>>journal.txt", dir.path()).status, 2);
    EXPECT_EQ(run(quote(mapfs_binary()) + " disk.img mnt -f -o bogus 2>>plain.txt", dir.path()).status, 2);
    const std::string journal = read_file(dir / "journal.txt");
    std::istringstream lines(journal);
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count)
        EXPECT_EQ(line.rfind("<3>mapfs", 0), 0u) << "not at error priority: " << line;
    EXPECT_GE(count, 3) << journal;  // two configuration errors, the status command's
    EXPECT_EQ(read_file(dir / "plain.txt").rfind("mapfs: ", 0), 0u) << read_file(dir / "plain.txt");
}

// Someone who may not read the report is told so, and what to do, instead
// of "not a mapfs mount".
TEST_F(CliTest, StatusAsAnotherUserSaysPermissionDeniedAndWhatToDo) {
    ::chmod(dir.path().c_str(), 0755);
    mount_args({disk.string(), mnt.string()});
    const CommandResult status = run("setpriv --reuid=65534 --regid=65534 --clear-groups " + quote(mapfs_binary_for_anyone(dir)) +
                                     " status " + quote(mnt.string()));
    EXPECT_EQ(status.status, 1) << status.output;
    EXPECT_NE(status.output.find("permission denied"), std::string::npos) << status.output;
    EXPECT_NE(status.output.find("Run the command as that user"), std::string::npos) << status.output;
    EXPECT_EQ(status.output.find("not a mapfs mount"), std::string::npos) << status.output;
}

// A missing mount point is refused with the command that makes it; with
// x-mount.mkdir (util-linux's name, which the unit passes) mapfs makes it,
// mode 0755 whatever the umask.
TEST_F(CliTest, XMountMkdirCreatesAMissingMountPoint) {
    const CommandResult refused = mapfs("disk.img new/deep/mnt -f");
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_NE(refused.output.find("mkdir -p new/deep/mnt"), std::string::npos) << refused.output;
    EXPECT_NE(refused.output.find("x-mount.mkdir"), std::string::npos) << refused.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "new"));
    const auto where = dir / "new" / "deep" / "mnt";
    MountedMapfs made({disk.string(), where.string(), "-o", "x-mount.mkdir"}, where, dir / "mkdir.log", {}, {"bash", "-c", "umask 077 && exec \"$@\"", "umask"});
    ASSERT_TRUE(made.live()) << made.log();
    EXPECT_EQ(run("stat -c %a new new/deep", dir.path()).output, "755\n755\n");
    EXPECT_EQ(read_file(where / "disk.img"), original);
    EXPECT_EQ(made.unmount(), 0);
}

}  // namespace
}  // namespace mapfs::testing
