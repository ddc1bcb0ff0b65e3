// Who can reach which window, and what the daemon itself can do.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";

class SecurityTest : public MountTest {
protected:
    std::filesystem::path disk;
    std::filesystem::path readonly_disk;

    void SetUp() override {
        ::chmod(dir.path().c_str(), 0755);
        disk = backing("disk.img", pattern_bytes(1 << 20, 81));
        readonly_disk = backing("ro.img", pattern_bytes(1 << 16, 82));
    }

    void mount_with(const std::vector<std::string>& extra) {
        std::vector<std::string> arguments{disk.string(), mnt.string(), "-w", "public:offset=0,length=4KiB,access=read",
                                           "-w", "private:offset=0,length=4KiB,access=read,mode=0400",
                                           "-w", "ro:file=" + readonly_disk.string() + ",access=read"};
        arguments.insert(arguments.end(), extra.begin(), extra.end());
        mount_args(arguments);
    }

    std::vector<std::string> mappings_of(const std::filesystem::path& file) {
        std::ifstream maps("/proc/" + std::to_string(daemon->server_pid()) + "/maps");
        std::vector<std::string> permissions;
        for (std::string line; std::getline(maps, line);)
            if (line.find(file.string()) != std::string::npos) permissions.push_back(line.substr(line.find(' ') + 1, 4));
        std::sort(permissions.begin(), permissions.end());
        return permissions;
    }
};

TEST_F(SecurityTest, OtherUsersAreShutOutWithoutAllowOther) {
    mount_with({});
    const CommandResult result = run(as_nobody + "cat " + quote(at("public").string()));
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find("Permission denied"), std::string::npos) << result.output;
    EXPECT_EQ(run("cat " + quote(at("public").string()) + " | wc -c").output, "4096\n") << "the owner is shut out too";
}

TEST_F(SecurityTest, WithAllowOtherTheKernelChecksModeBits) {
    mount_with({"-o", "allow_other"});
    EXPECT_EQ(run(as_nobody + "cat " + quote(at("public").string()) + " | wc -c").output, "4096\n");
    const CommandResult secret = run(as_nobody + "cat " + quote(at("private").string()));
    EXPECT_NE(secret.output.find("Permission denied"), std::string::npos) << secret.output;
    const CommandResult write = run(as_nobody + "dd if=/dev/zero of=" + quote(at("disk.img").string()) + " bs=1 count=1 conv=notrunc");
    EXPECT_NE(write.output.find("Permission denied"), std::string::npos) << "0644 of root must stop nobody: " << write.output;
    EXPECT_EQ(read_file(disk), pattern_bytes(1 << 20, 81));
}

// The status report names backing files and shows every window's
// activity: with allow_other, other users may not read it unless the
// configuration shares it (status=everyone).
TEST_F(SecurityTest, TheStatusReportIsTheOwnersUnlessShared) {
    mount_with({"-o", "allow_other"});
    const std::string report = quote((mnt / ".mapfs" / "status").string());
    const CommandResult refused = run(as_nobody + "cat " + report);
    EXPECT_NE(refused.status, 0);
    EXPECT_NE(refused.output.find("Permission denied"), std::string::npos) << refused.output;
    const CommandResult command = run(as_nobody + quote(mapfs_binary_for_anyone(dir)) + " status " + quote(mnt.string()));
    EXPECT_NE(command.output.find("permission denied"), std::string::npos) << command.output;
    EXPECT_NE(ok("cat " + report).find("\"windows\""), std::string::npos) << "the owner reads it";
    EXPECT_EQ(daemon->unmount(), 0);
    mount_with({"-o", "allow_other,status=everyone"});
    const CommandResult shared = run(as_nobody + "cat " + report);
    EXPECT_NE(shared.output.find("\"windows\""), std::string::npos) << shared.output;
}

// Each open of the report keeps the report made for it: another user may
// hold at most 16 opens at once (EMFILE beyond), so what they can make the
// daemon hold is bounded; once closed, the report opens again, and the
// owner's opens are not counted against them.
TEST_F(SecurityTest, AnotherUserCanHoldOnlySoManyOpensOfTheReport) {
    mount_with({"-o", "allow_other,status=everyone"});
    const std::string script = R"(
import errno, os, sys
held = []
try:
    for _ in range(40):
        held.append(os.open(sys.argv[1], os.O_RDONLY))
except OSError as e:
    print(len(held), errno.errorcode[e.errno])
for fd in held:
    os.close(fd)
print(len(os.read(os.open(sys.argv[1], os.O_RDONLY), 100)) > 0)
)";
    dir.write_file("hold.py", script);
    ::chmod((dir / "hold.py").c_str(), 0644);
    ::chmod(dir.path().c_str(), 0755);  // nobody reads the script
    const std::string report = quote((mnt / ".mapfs" / "status").string());
    // Debian's python3: one under /root (pyenv) is not nobody's to run.
    const std::string hold = "/usr/bin/python3 " + quote((dir / "hold.py").string()) + " " + report;
    const CommandResult nobody = run(as_nobody + hold);
    EXPECT_EQ(nobody.output, "16 EMFILE\nTrue\n");
    // Root holds its own 16 while nobody holds theirs.
    EXPECT_EQ(run("python3 -c 'import os, sys, time; [os.open(sys.argv[1], os.O_RDONLY) for _ in range(16)]; time.sleep(2)' " +
                  report + " & sleep 0.5; " + as_nobody + hold + "; wait").output,
              "16 EMFILE\nTrue\n");
}

TEST_F(SecurityTest, ReadWindowsAreServedFromReadOnlyMappings) {
    mount_with({});
    // ro.img has only read windows; disk.img has read windows and a write one.
    EXPECT_EQ(mappings_of(readonly_disk), (std::vector<std::string>{"r--s"}));
    EXPECT_EQ(mappings_of(disk), (std::vector<std::string>{"r--s", "rw-s"}));
}

TEST_F(SecurityTest, TheDebugLogHoldsNoFileContents) {
    mount_with({"-d"});
    ok("printf SECRET-MARKER-4242 | dd of=" + quote(at("disk.img").string()) + " conv=notrunc status=none");
    EXPECT_EQ(ok("head -c 18 " + quote(at("disk.img").string())), "SECRET-MARKER-4242");
    EXPECT_NE(daemon->log().find("opcode: WRITE"), std::string::npos) << "the trace should show the request";
    EXPECT_EQ(daemon->log().find("SECRET-MARKER"), std::string::npos) << "file contents reached the log";
}

}  // namespace
}  // namespace mapfs::testing
