// Every kind of bad configuration or argument: one clear message, exit 2,
// nothing mounted, no backing file touched.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

struct HostileCase {
    std::string name;
    std::string arguments;            // after "mapfs -f", run in the temp dir
    std::vector<std::string> words;   // each must appear in the output
    std::string toml = "";            // written to bad.toml; @DISK@ is disk.img's path
    bool as_nobody = false;           // run as user nobody
};

std::ostream& operator<<(std::ostream& out, const HostileCase& c) { return out << c.name; }

class HostileInputTest : public ::testing::TestWithParam<HostileCase> {
protected:
    TempDir dir;
    std::string original = pattern_bytes(1 << 20, 71);

    void SetUp() override {
        dir.write_file("disk.img", original);
        dir.write_file("secret.img", original);
        ::chmod((dir / "secret.img").c_str(), 0600);  // root's; nobody cannot read it
        ::chmod(dir.path().c_str(), 0755);              // nobody may look inside
        std::filesystem::create_directory(dir / "mnt");
        std::filesystem::create_directory(dir / "adir");
        dir.write_file("notdir", "x");
    }

    struct Snapshot {
        std::string bytes;
        std::uintmax_t size;
        std::filesystem::file_time_type mtime;
    };
    Snapshot snapshot(const std::string& name) const {
        const auto path = dir / name;
        return {read_file(path), std::filesystem::file_size(path), std::filesystem::last_write_time(path)};
    }
};

std::string toml_with_disk(std::string toml, const std::filesystem::path& disk) {
    for (std::size_t at = toml.find("@DISK@"); at != std::string::npos; at = toml.find("@DISK@"))
        toml.replace(at, 6, disk.string());
    return toml;
}

TEST_P(HostileInputTest, IsRejectedWithExitTwoAndTouchesNothing) {
    const HostileCase& c = GetParam();
    if (!c.toml.empty()) dir.write_file("bad.toml", toml_with_disk(c.toml, dir / "disk.img"));
    const Snapshot disk_before = snapshot("disk.img");
    const Snapshot secret_before = snapshot("secret.img");
    const std::string prefix = c.as_nobody ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    const std::string binary = c.as_nobody ? mapfs_binary_for_anyone(dir) : mapfs_binary();
    const CommandResult result = run(prefix + quote(binary) + " -f " + c.arguments, dir.path());

    EXPECT_EQ(result.status, 2) << "mapfs " << c.arguments << "\n" << result.output;
    for (const std::string& word : c.words)
        EXPECT_NE(result.output.find(word), std::string::npos) << "no \"" << word << "\" in:\n" << result.output;
    EXPECT_EQ(result.output.rfind("mapfs: ", 0), 0u) << "messages start with the program name:\n" << result.output;
    EXPECT_FALSE(is_mounted(dir / "mnt"));
    for (const auto& [name, before] : {std::pair{"disk.img", disk_before}, std::pair{"secret.img", secret_before}}) {
        const Snapshot after = snapshot(name);
        EXPECT_EQ(after.size, before.size) << name;
        EXPECT_TRUE(after.bytes == before.bytes) << name << " changed";
        EXPECT_TRUE(after.mtime == before.mtime) << name << " was written";
    }
}

const std::string region = "[[region]]\nname = \"d\"\nfile = \"@DISK@\"\n";

INSTANTIATE_TEST_SUITE_P(Cases, HostileInputTest, ::testing::Values(
    HostileCase{"MissingFile", "missing.img mnt", {"missing.img", "No such file or directory"}},
    HostileCase{"DirectoryAsBackingFile", "-w 'x:file=adir' mnt", {"region \"adir\"", "file", "is a directory"}},
    HostileCase{"UnreadableFile", "secret.img mnt", {"secret.img", "cannot be read", "Permission denied"}, "", true},
    HostileCase{"WriteOnReadOnlyFile", "-w 'x:file=disk.img,access=write' mnt",
                {"disk.img", "cannot be opened for writing", "Permission denied"}, "", true},
    HostileCase{"OffsetPastTheEnd", "disk.img mnt -w 'p:offset=2MiB'", {"window \"p\"", "offset", "past the end"}},
    HostileCase{"OffsetPlusLengthPastTheEnd", "disk.img mnt -w 'p:offset=512KiB,length=600KiB'", {"window \"p\"", "length", "past the end"}},
    HostileCase{"OffsetPlusLengthOverflows", "disk.img mnt -w 'p:offset=16,length=0xfffffffffffffff8'", {"window \"p\"", "overflows 64 bits"}},
    HostileCase{"NegativeSize", "disk.img mnt -w 'p:length=-1'", {"length", "negative"}},
    HostileCase{"MalformedSize", "disk.img mnt -w 'p:length=12XB'", {"length", "\"12XB\" is not a size"}},
    HostileCase{"HugeSize", "disk.img mnt -w 'p:length=99999999999999999999'", {"length", "too large"}},
    HostileCase{"UnknownAccess", "disk.img mnt -w 'p:access=readwrite'", {"access", "unknown access \"readwrite\""}},
    HostileCase{"UnknownCacheMode", "disk.img mnt -w 'p:cache=always'", {"cache", "unknown cache mode \"always\""}},
    HostileCase{"UnknownSpecKey", "disk.img mnt -w 'p:lenght=1'", {"unknown key \"lenght\"", "did you mean \"length\""}},
    HostileCase{"UnknownTomlKey", "bad.toml mnt", {"bad.toml:6", "unknown key \"acces\"", "did you mean \"access\""},
                region + "[[window]]\nname = \"w\"\nacces = \"read\"\nregion = \"d\"\n"},
    HostileCase{"UnknownTomlTable", "bad.toml mnt", {"bad.toml:4", "unknown key \"windows\"", "did you mean \"window\""},
                region + "[[windows]]\nname = \"w\"\n"},
    HostileCase{"DuplicateWindowNames", "bad.toml mnt", {"bad.toml:7", "window \"w\"", "another window has the same name"},
                region + "[[window]]\nname = \"w\"\nregion = \"d\"\n[[window]]\nname = \"w\"\nregion = \"d\"\n"},
    HostileCase{"DotDotComponent", "disk.img mnt -w 'a/../../etc:length=1'", {"\"..\" component"}},
    HostileCase{"DotComponent", "disk.img mnt -w './a:length=1'", {"\".\" component"}},
    HostileCase{"EmptyComponent", "disk.img mnt -w 'a//b:length=1'", {"empty component"}},
    HostileCase{"TrailingSlash", "disk.img mnt -w 'a/:length=1'", {"empty component"}},
    HostileCase{"NulInName", "bad.toml mnt", {"bad.toml:4", "NUL"}, region + "[[window]]\nname = \"a\\u0000b\"\nregion = \"d\"\n"},
    HostileCase{"LeadingSlash", "disk.img mnt -w '/etc/passwd:length=1'", {"starts with '/'"}},
    HostileCase{"ReservedName", "disk.img mnt -w '.mapfs/status:length=1'", {"reserved"}},
    HostileCase{"FileDirectoryClash", "disk.img mnt -w 'a:length=1' -w 'a/b:length=1'",
                {"window \"a/b\"", "needs \"a\" to be a directory"}},
    HostileCase{"AnonWithoutSize", "-w 's:anon' mnt", {"region \"s\"", "size", "needs a size"}},
    HostileCase{"AnonSizeZero", "-w 's:anon,size=0' mnt", {"size", "more than 0"}},
    HostileCase{"AnonLargerThanTheAddressSpace", "-w 's:anon,size=1EiB' mnt", {"size", "address space"}},
    HostileCase{"MountPointMissing", "disk.img nowhere", {"mount point \"nowhere\"", "No such file or directory"}},
    HostileCase{"MountPointNotADirectory", "disk.img notdir", {"\"notdir\" is not a directory"}},
    HostileCase{"UnknownMountOption", "disk.img mnt -o allow_others", {"unknown mount option \"allow_others\"", "did you mean \"allow_other\""}},
    HostileCase{"UnknownArgument", "disk.img mnt --readonly", {"--readonly", "unknown option"}},
    HostileCase{"NotToml", "bad.toml mnt", {"bad.toml:1", "not valid TOML"}, "[[window]\nname = \n"},
    HostileCase{"WrongTomlType", "bad.toml mnt", {"bad.toml:7", "access", "must be a string"},
                region + "[[window]]\nname = \"w\"\nregion = \"d\"\naccess = 3\n"},
    HostileCase{"UnknownRegion", "bad.toml mnt", {"window \"w\"", "no region named \"nope\""}, "[[window]]\nname = \"w\"\nregion = \"nope\"\n"},
    HostileCase{"SizeOnAFileRegion", "bad.toml mnt", {"region \"d\"", "size applies to anonymous regions"}, region + "size = 5\n"},
    HostileCase{"TooManyArguments", "disk.img mnt extra", {"too many arguments"}},
    HostileCase{"DecimalModeInToml", "bad.toml mnt", {"bad.toml:7", "mode", "decimal number 644", "write 0o644 or \"644\""},
                region + "[[window]]\nname = \"w\"\nregion = \"d\"\nmode = 644\n"},
    HostileCase{"DecimalUmaskInToml", "bad.toml mnt", {"bad.toml:2", "umask", "decimal number 22", "write 0o22 or \"22\""},
                "[options]\numask = 22\n" + region + "[[window]]\nname = \"w\"\nregion = \"d\"\n"},
    HostileCase{"SetuidMode", "disk.img mnt -w 'p:mode=4755'", {"window \"p\"", "mode", "setuid, setgid or sticky", "use 0755"}},
    HostileCase{"StickyModeInToml", "bad.toml mnt", {"bad.toml:7", "setuid, setgid or sticky"},
                region + "[[window]]\nname = \"w\"\nregion = \"d\"\nmode = 0o1666\n"}),
    [](const ::testing::TestParamInfo<HostileCase>& info) { return info.param.name; });

}  // namespace
}  // namespace mapfs::testing
