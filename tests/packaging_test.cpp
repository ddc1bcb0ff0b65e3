// What gets installed: meson install's files, man pages that render cleanly,
// a systemd unit that systemd-analyze accepts.
#include <gtest/gtest.h>

#include <filesystem>

#include "mount/mount_fixture.hpp"

namespace mapfs::testing {
namespace {

std::filesystem::path build_dir() { return std::getenv("MAPFS_BUILD_DIR"); }

class InstalledTree : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        destination_ = new TempDir();
        install_output_ = new CommandResult(run("meson install -C " + quote(build_dir().string()) + " --no-rebuild --destdir " +
                                                quote(destination_->path().string())));
    }
    static void TearDownTestSuite() {
        delete destination_;
        delete install_output_;
    }
    static std::filesystem::path installed(const std::string& relative) {
        // Under the destdir, the prefix (/usr/local by default) follows.
        const std::string prefix = run("meson introspect " + quote(build_dir().string()) +
                                       " --buildoptions | python3 -c \"import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']=='prefix'][0])\"").output;
        return destination_->path() / prefix.substr(1, prefix.size() - 2) / relative;
    }
    static TempDir* destination_;
    static CommandResult* install_output_;
};
TempDir* InstalledTree::destination_ = nullptr;
CommandResult* InstalledTree::install_output_ = nullptr;

TEST_F(InstalledTree, MesonInstallsBinaryManPagesUnitAndExample) {
    ASSERT_EQ(install_output_->status, 0) << install_output_->output;
    for (const char* file : {"bin/mapfs", "share/man/man8/mapfs.8", "share/man/man5/mapfs.toml.5",
                             "lib/systemd/system/mapfs@.service", "lib/systemd/system/mapfs-cleanup@.service",
                             "share/doc/mapfs/examples/mapfs.toml"})
        EXPECT_TRUE(std::filesystem::is_regular_file(installed(file))) << file << " is not installed";
    EXPECT_EQ(run(quote(installed("bin/mapfs").string()) + " --version").output.rfind("mapfs ", 0), 0u);
}

TEST_F(InstalledTree, ManPagesRenderWithoutWarnings) {
    for (const char* page : {"share/man/man8/mapfs.8", "share/man/man5/mapfs.toml.5"}) {
        const std::string path = quote(installed(page).string());
        const CommandResult warnings = run("MANWIDTH=80 man --warnings -l " + path + " 2>&1 >/dev/null");
        EXPECT_EQ(warnings.output, "") << page;
        const std::string text = run("MANWIDTH=80 man -l " + path + " 2>/dev/null").output;
        EXPECT_NE(text.find("NAME"), std::string::npos) << page;
        EXPECT_NE(text.find("EXAMPLE"), std::string::npos) << page;
    }
    // Wide enough that no word is hyphenated across lines.
    const std::string command_page = run("MANWIDTH=400 man -l " + quote(installed("share/man/man8/mapfs.8").string())).output;
    for (const char* word : {"--window", "--foreground", "--single-thread", "--log-level", "cache=auto|cto|none|keep",
                             "status=owner|everyone", "x-mount.mkdir", "mapfs check", "upgrade --all", "EXIT STATUS",
                             "SIGNALS", "FILES", "allow_other", "detach_stale"})
        EXPECT_NE(command_page.find(word), std::string::npos) << "mapfs(8) does not mention " << word;
    const std::string config_page = run("MANWIDTH=400 man -l " + quote(installed("share/man/man5/mapfs.toml.5").string())).output;
    for (const char* word : {"mountpoint", "allow_other", "read_only", "log_level", "umask", "fsname", "anon", "offset",
                             "length", "access", "mode", "cache", "status", "\"cto\""})
        EXPECT_NE(config_page.find(word), std::string::npos) << "mapfs.toml(5) does not mention " << word;
}

TEST_F(InstalledTree, SystemdAnalyzeVerifiesTheUnits) {
    TempDir units;
    // Instances of the templates, pointing at the installed binary.
    for (const char* unit : {"mapfs@", "mapfs-cleanup@"}) {
        ASSERT_EQ(0, run("sed 's|^\\(Exec[A-Za-z]*=-\\?\\)[^ ]*/mapfs|\\1" + installed("bin/mapfs").string() + "|' " +
                       quote(installed(std::string("lib/systemd/system/") + unit + ".service").string()) + " > " +
                       quote((units / (std::string(unit) + "demo.service")).string())).status);
    }
    const std::string unit = read_file(units / "mapfs@demo.service");
    for (const char* line : {"Type=notify", "reload --pid $MAINPID /etc/mapfs/%i.toml", "cleanup --unit %n /etc/mapfs/%i.toml",
                             "Environment=MAPFS_FD_STORE=1", "FileDescriptorStoreMax=", "-o x-mount.mkdir /etc/mapfs/%i.toml",
                             "\nRestartPreventExitStatus=2 3\n", "\nStartLimitBurst=20\n", "\nOnFailure=mapfs-cleanup@%i.service\n",
                             "\nDevicePolicy=closed\n", "\nDeviceAllow=/dev/fuse rw\n", "\nPrivateNetwork=yes\n",
                             // systemd 254+ gives a private network a mount namespace unless told no
                             "\nPrivateMounts=no\n",
                             "NoNewPrivileges=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service @mount @memlock mincore"})
        EXPECT_NE(unit.find(line), std::string::npos) << "the unit lacks " << line;
    // A condition would skip a missing configuration silently.
    EXPECT_EQ(unit.find("\nCondition"), std::string::npos) << "the unit has a Condition";
    // Each of these gives the service a mount namespace of its own, which
    // would hide the FUSE mount from everyone else.
    for (const char* option : {"PrivateTmp=", "ProtectSystem=", "ProtectHome=", "ProtectKernelLogs=", "ProtectKernelModules=",
                               "ProtectControlGroups=", "PrivateDevices=", "ReadOnlyPaths=", "TemporaryFileSystem=",
                               "BindPaths=", "PrivateMounts=yes", "ProtectProc=", "ProtectKernelTunables="})
        EXPECT_EQ(unit.find("\n" + std::string(option)), std::string::npos) << "the unit sets " << option;
    const CommandResult verify = run("MANPATH=" + quote(installed("share/man").string()) + " systemd-analyze verify " +
                                     quote((units / "mapfs@demo.service").string()) + " " +
                                     quote((units / "mapfs-cleanup@demo.service").string()));
    EXPECT_EQ(verify.status, 0) << verify.output;
    EXPECT_EQ(verify.output, "") << verify.output;
}

}  // namespace
}  // namespace mapfs::testing
