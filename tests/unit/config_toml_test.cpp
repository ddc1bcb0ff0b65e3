// The TOML configuration file: every key, every type, and file:line in errors.
#include "config/config_toml.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "namespace/loader.hpp"
#include "temp_dir.hpp"

namespace {

using mapfs::Access;
using mapfs::CacheMode;
using mapfs::PageMode;
using mapfs::TransportChoice;
using mapfs::Config;
using mapfs::ConfigError;
using mapfs::ConfigErrors;
using mapfs::load_toml_config;
using mapfs::parse_toml_config;
using mapfs::testing::read_file;
using mapfs::testing::TempDir;

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The example of DESIGN.md, "Configuration", unchanged.
const char* const design_example = R"(mountpoint = "/srv/images"     # optional when given on the command line

[options]
cache = "auto"                 # auto | none | keep, default for every window
allow_other = false
log_level = "info"

[[region]]
name = "disk"
file = "/var/lib/images/disk.img"

[[region]]
name = "scratch"
anon = true
size = "64MiB"

[[window]]
name = "disk/p1"               # shows as directory disk, file p1
region = "disk"
offset = "1MiB"
length = "100MiB"              # omitted: to the end of the file
access = "write"               # read | write | copy
mode = "0640"                  # optional; uid, gid and cache likewise

[[window]]
name = "scratch"
region = "scratch"
access = "write"
)";

Config parsed(const std::string& text) {
    ConfigErrors errors;
    auto config = parse_toml_config(text, "test.toml", errors);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    EXPECT_TRUE(config.has_value());
    return config ? std::move(*config) : Config{};
}

// Parses text that has exactly one problem and returns it.
ConfigError only_error(const std::string& text) {
    ConfigErrors errors;
    parse_toml_config(text, "test.toml", errors);
    EXPECT_EQ(errors.all().size(), 1u) << errors.to_string();
    return errors.empty() ? ConfigError{} : errors.all().front();
}

TEST(TomlConfig, DesignExample) {
    const Config config = parsed(design_example);
    EXPECT_EQ(config.mountpoint, std::optional<std::string>("/srv/images"));
    EXPECT_EQ(config.mountpoint_where, "test.toml:1");
    EXPECT_EQ(config.options.cache, CacheMode::automatic);
    EXPECT_FALSE(config.options.allow_other);
    EXPECT_FALSE(config.options.read_only);
    EXPECT_EQ(config.options.log_level, "info");

    ASSERT_EQ(config.regions.size(), 2u);
    EXPECT_EQ(config.regions[0].name, "disk");
    EXPECT_EQ(config.regions[0].file, std::optional<std::string>("/var/lib/images/disk.img"));
    EXPECT_FALSE(config.regions[0].anon);
    EXPECT_FALSE(config.regions[0].size_bytes.has_value());
    EXPECT_EQ(config.regions[0].where, "test.toml:8");
    EXPECT_EQ(config.regions[1].name, "scratch");
    EXPECT_FALSE(config.regions[1].file.has_value());
    EXPECT_TRUE(config.regions[1].anon);
    EXPECT_EQ(config.regions[1].size_bytes, std::optional<std::uint64_t>(64 * MiB));
    EXPECT_EQ(config.regions[1].where, "test.toml:12");

    ASSERT_EQ(config.windows.size(), 2u);
    const auto& p1 = config.windows[0];
    EXPECT_EQ(p1.name, "disk/p1");
    EXPECT_EQ(p1.region, "disk");
    EXPECT_EQ(p1.offset_bytes, MiB);
    EXPECT_EQ(p1.length_bytes, std::optional<std::uint64_t>(100 * MiB));
    EXPECT_EQ(p1.access, std::optional<Access>(Access::write));
    EXPECT_EQ(p1.mode, std::optional<mode_t>(0640));
    EXPECT_FALSE(p1.uid.has_value());
    EXPECT_FALSE(p1.gid.has_value());
    EXPECT_FALSE(p1.cache.has_value());
    EXPECT_EQ(p1.where, "test.toml:17");
    const auto& scratch = config.windows[1];
    EXPECT_EQ(scratch.name, "scratch");
    EXPECT_EQ(scratch.region, "scratch");
    EXPECT_EQ(scratch.offset_bytes, 0u);
    EXPECT_FALSE(scratch.length_bytes.has_value());
    EXPECT_EQ(scratch.access, std::optional<Access>(Access::write));
    EXPECT_FALSE(scratch.mode.has_value());
    EXPECT_EQ(scratch.where, "test.toml:25");
}

TEST(TomlConfig, EmptyFileIsAnEmptyConfig) {
    const Config config = parsed("");
    EXPECT_FALSE(config.mountpoint.has_value());
    EXPECT_TRUE(config.regions.empty());
    EXPECT_TRUE(config.windows.empty());
    EXPECT_EQ(config.options.cache, CacheMode::automatic);
}

TEST(TomlConfig, EveryOption) {
    const Config config = parsed(R"(
[options]
cache = "none"
allow_other = true
read_only = true
log_level = "debug"
uid = 1000
gid = "100"
umask = "027"
fsname = "images"
)");
    EXPECT_EQ(config.options.cache, CacheMode::none);
    EXPECT_TRUE(config.options.allow_other);
    EXPECT_TRUE(config.options.read_only);
    EXPECT_EQ(config.options.log_level, "debug");
    EXPECT_EQ(config.options.uid, std::optional<uid_t>(1000));
    EXPECT_EQ(config.options.gid, std::optional<gid_t>(100));
    EXPECT_EQ(config.options.umask, std::optional<mode_t>(027));
    EXPECT_EQ(config.options.fsname, "images");
    EXPECT_EQ(parsed("[options]\ncache = \"keep\"\n").options.cache, CacheMode::keep);
}

TEST(TomlConfig, Transport) {
    EXPECT_EQ(parsed("[options]\ntransport = \"uring\"\n").options.transport, TransportChoice::io_uring);
    EXPECT_EQ(parsed("[options]\ntransport = \"dev\"\n").options.transport, TransportChoice::dev_fuse);
    EXPECT_EQ(parsed("").options.transport, TransportChoice::automatic);
    const ConfigError error = only_error("[options]\ntransport = \"rings\"\n");
    EXPECT_TRUE(contains(error.message, "use auto, uring or dev")) << error.to_string();
}

TEST(TomlConfig, SizesAsStringsAndIntegers) {
    const Config config = parsed(R"(
[[region]]
name = "a"
anon = true
size = 67108864

[[region]]
name = "b"
anon = true
size = "2GiB"

[[region]]
name = "c"
anon = true
size = "0x1000"

[[window]]
name = "w"
region = "a"
offset = 4096
length = "1M"
)");
    ASSERT_EQ(config.regions.size(), 3u);
    EXPECT_EQ(config.regions[0].size_bytes, std::optional<std::uint64_t>(64 * MiB));
    EXPECT_EQ(config.regions[1].size_bytes, std::optional<std::uint64_t>(std::uint64_t{2} << 30));
    EXPECT_EQ(config.regions[2].size_bytes, std::optional<std::uint64_t>(4096));
    ASSERT_EQ(config.windows.size(), 1u);
    EXPECT_EQ(config.windows[0].offset_bytes, 4096u);
    EXPECT_EQ(config.windows[0].length_bytes, std::optional<std::uint64_t>(MiB));
}

TEST(TomlConfig, ModeAsStringAndAsOctalInteger) {
    const Config config = parsed(R"(
[[window]]
name = "a"
region = "r"
mode = "0640"

[[window]]
name = "b"
region = "r"
mode = 0o640

[[window]]
name = "c"
region = "r"
mode = "600"
uid = 1000
gid = "1001"
cache = "keep"
access = "copy"
pages = "lock"
)");
    ASSERT_EQ(config.windows.size(), 3u);
    EXPECT_EQ(config.windows[0].mode, std::optional<mode_t>(0640));
    EXPECT_EQ(config.windows[1].mode, std::optional<mode_t>(0640));
    EXPECT_EQ(config.windows[2].mode, std::optional<mode_t>(0600));
    EXPECT_EQ(config.windows[2].uid, std::optional<uid_t>(1000));
    EXPECT_EQ(config.windows[2].gid, std::optional<gid_t>(1001));
    EXPECT_EQ(config.windows[2].cache, std::optional<CacheMode>(CacheMode::keep));
    EXPECT_EQ(config.windows[2].access, std::optional<Access>(Access::copy));
    EXPECT_EQ(config.windows[2].pages, std::optional<PageMode>(PageMode::lock));
    EXPECT_FALSE(config.windows[0].pages.has_value());
}

// Like mode, an integer umask is the value itself (TOML 0o027 is 23 decimal).
TEST(TomlConfig, UmaskAsOctalInteger) {
    EXPECT_EQ(parsed("[options]\numask = \"027\"\n").options.umask, std::optional<mode_t>(027));
    EXPECT_EQ(parsed("[options]\numask = 0o027\n").options.umask, std::optional<mode_t>(027));
    EXPECT_EQ(parsed("[options]\numask = 0o077\n").options.umask, std::optional<mode_t>(077));
}

// The natural mistake: mode = 644 is the decimal number 644 (--w----r-T as
// bits). It is refused with the two ways to write it, never reinterpreted.
TEST(TomlConfig, DecimalIntegerModeIsAnErrorThatSaysHowToWriteIt) {
    const ConfigError error = only_error("[[window]]\nname = \"a\"\nregion = \"r\"\nmode = 644\n");
    EXPECT_EQ(error.where, "test.toml:4");
    EXPECT_EQ(error.field, "mode");
    EXPECT_TRUE(contains(error.message, "decimal number 644")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "write 0o644 or \"644\"")) << error.to_string();
    const ConfigError hex = only_error("[[window]]\nname = \"a\"\nregion = \"r\"\nmode = 0x1a4\n");
    EXPECT_EQ(hex.field, "mode");
    const ConfigError umask = only_error("[options]\numask = 22\n");
    EXPECT_EQ(umask.field, "option \"umask\"");
    EXPECT_TRUE(contains(umask.message, "write 0o22 or \"22\"")) << umask.to_string();
    // 0 is 0 in any base.
    EXPECT_EQ(parsed("[options]\numask = 0\n").options.umask, std::optional<mode_t>(0));
}

TEST(TomlConfig, ModesInEveryOctalSpellingMeanTheSame) {
    for (const char* mode : {"0o644", "\"644\"", "\"0644\"", "\"0o644\""}) {
        const Config config = parsed(std::string("[[window]]\nname = \"a\"\nregion = \"r\"\nmode = ") + mode + "\n");
        EXPECT_EQ(config.windows.at(0).mode, std::optional<mode_t>(0644)) << mode;
    }
}

// A window is data, never a program to run with another user's rights.
TEST(TomlConfig, SetuidSetgidAndStickyBitsAreRefused) {
    for (const char* mode : {"0o4755", "\"2755\"", "\"1777\"", "\"06644\""}) {
        const ConfigError error = only_error(std::string("[[window]]\nname = \"a\"\nregion = \"r\"\nmode = ") + mode + "\n");
        EXPECT_EQ(error.field, "mode") << mode;
        EXPECT_TRUE(contains(error.message, "setuid, setgid or sticky")) << error.to_string();
    }
    EXPECT_TRUE(contains(only_error("[options]\numask = \"1022\"\n").message, "beyond 0777"));
}

TEST(TomlConfig, ModeOutOfRange) {
    const ConfigError error = only_error("[[window]]\nname = \"a\"\nregion = \"r\"\nmode = 0o17777\n");
    EXPECT_EQ(error.where, "test.toml:4");
    EXPECT_EQ(error.field, "mode");
    EXPECT_TRUE(contains(error.message, "07777")) << error.to_string();
}

TEST(TomlConfig, UnknownTopLevelKey) {
    const ConfigError error = only_error("\n\nmountpont = \"/mnt\"\n");
    EXPECT_EQ(error.where, "test.toml:3");
    EXPECT_EQ(error.field, "mountpont");
    EXPECT_TRUE(contains(error.message, "unknown key \"mountpont\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "did you mean \"mountpoint\"")) << error.to_string();
}

TEST(TomlConfig, UnknownTopLevelTable) {
    const ConfigError error = only_error("[[regoin]]\nname = \"x\"\n");
    EXPECT_EQ(error.where, "test.toml:1");
    EXPECT_TRUE(contains(error.message, "did you mean \"region\"")) << error.to_string();
}

TEST(TomlConfig, UnknownOptionKey) {
    const ConfigError error = only_error("[options]\ncache = \"auto\"\nalow_other = true\n");
    EXPECT_EQ(error.where, "test.toml:3");
    EXPECT_EQ(error.field, "alow_other");
    EXPECT_TRUE(contains(error.message, "[options]")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "did you mean \"allow_other\"")) << error.to_string();
}

TEST(TomlConfig, UnknownRegionKey) {
    const ConfigError error = only_error("[[region]]\nname = \"disk\"\nfiel = \"/x.img\"\n");
    EXPECT_EQ(error.where, "test.toml:3");
    EXPECT_EQ(error.field, "fiel");
    EXPECT_TRUE(contains(error.subject, "region \"disk\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "[region]")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "did you mean \"file\"")) << error.to_string();
}

TEST(TomlConfig, UnknownWindowKey) {
    const ConfigError error =
        only_error("[[window]]\nname = \"p1\"\nregion = \"disk\"\n\nlenght = \"1MiB\"\n");
    EXPECT_EQ(error.where, "test.toml:5");
    EXPECT_EQ(error.field, "lenght");
    EXPECT_TRUE(contains(error.subject, "window \"p1\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "did you mean \"length\"")) << error.to_string();
    EXPECT_TRUE(contains(error.to_string(), "test.toml:5")) << error.to_string();
}

TEST(TomlConfig, UnknownKeyWithoutCloseMatchHasNoHint) {
    const ConfigError error = only_error("[options]\nfrobnicate = 1\n");
    EXPECT_EQ(error.field, "frobnicate");
    EXPECT_FALSE(contains(error.message, "did you mean")) << error.to_string();
}

TEST(TomlConfig, StringWhereBooleanExpected) {
    const ConfigError error = only_error("[options]\nallow_other = \"yes\"\n");
    EXPECT_EQ(error.where, "test.toml:2");
    EXPECT_TRUE(contains(error.field, "allow_other")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "true or false")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "a string")) << error.to_string();

    const ConfigError anon = only_error("[[region]]\nname = \"s\"\nanon = 1\nsize = 4096\n");
    EXPECT_EQ(anon.where, "test.toml:3");
    EXPECT_EQ(anon.field, "anon");
    EXPECT_TRUE(contains(anon.message, "an integer")) << anon.to_string();
}

TEST(TomlConfig, NonStringWhereStringExpected) {
    const ConfigError cache = only_error("[options]\ncache = 1\n");
    EXPECT_TRUE(contains(cache.field, "cache")) << cache.to_string();
    EXPECT_TRUE(contains(cache.message, "must be a string")) << cache.to_string();

    const ConfigError file = only_error("[[region]]\nname = \"d\"\nfile = 42\n");
    EXPECT_EQ(file.where, "test.toml:3");
    EXPECT_EQ(file.field, "file");

    const ConfigError access = only_error("[[window]]\nname = \"w\"\nregion = \"r\"\naccess = true\n");
    EXPECT_EQ(access.where, "test.toml:4");
    EXPECT_EQ(access.field, "access");
    EXPECT_TRUE(contains(access.message, "a boolean")) << access.to_string();

    const ConfigError mountpoint = only_error("mountpoint = [\"/a\"]\n");
    EXPECT_EQ(mountpoint.field, "mountpoint");
    EXPECT_TRUE(contains(mountpoint.message, "an array")) << mountpoint.to_string();
}

TEST(TomlConfig, WrongTypeForSizes) {
    const ConfigError fraction = only_error("[[region]]\nname = \"s\"\nanon = true\nsize = 1.5\n");
    EXPECT_EQ(fraction.where, "test.toml:4");
    EXPECT_EQ(fraction.field, "size");
    EXPECT_TRUE(contains(fraction.message, "integer or a string")) << fraction.to_string();

    const ConfigError boolean = only_error("[[window]]\nname = \"w\"\nregion = \"r\"\noffset = true\n");
    EXPECT_EQ(boolean.field, "offset");
    EXPECT_TRUE(contains(boolean.message, "a boolean")) << boolean.to_string();
}

TEST(TomlConfig, BadValuesInStrings) {
    const ConfigError size = only_error("[[window]]\nname = \"w\"\nregion = \"r\"\nlength = \"12XB\"\n");
    EXPECT_EQ(size.where, "test.toml:4");
    EXPECT_EQ(size.field, "length");
    EXPECT_TRUE(contains(size.message, "12XB")) << size.to_string();

    const ConfigError access = only_error("[[window]]\nname = \"w\"\nregion = \"r\"\naccess = \"rw\"\n");
    EXPECT_EQ(access.field, "access");
    EXPECT_TRUE(contains(access.message, "rw")) << access.to_string();

    const ConfigError pages = only_error("[[window]]\nname = \"w\"\nregion = \"r\"\npages = \"pinned\"\n");
    EXPECT_EQ(pages.where, "test.toml:4");
    EXPECT_EQ(pages.field, "pages");
    EXPECT_TRUE(contains(pages.message, "use lazy, populate or lock")) << pages.to_string();

    const ConfigError cache = only_error("[options]\ncache = \"sometimes\"\n");
    EXPECT_TRUE(contains(cache.message, "sometimes")) << cache.to_string();

    const ConfigError level = only_error("[options]\nlog_level = \"loud\"\n");
    EXPECT_TRUE(contains(level.field, "log_level")) << level.to_string();
    EXPECT_TRUE(contains(level.message, "loud")) << level.to_string();
}

TEST(TomlConfig, NegativeIntegerSize) {
    const ConfigError error = only_error("[[region]]\nname = \"s\"\nanon = true\nsize = -1\n");
    EXPECT_EQ(error.where, "test.toml:4");
    EXPECT_EQ(error.field, "size");
    EXPECT_TRUE(contains(error.message, "negative")) << error.to_string();
    EXPECT_TRUE(contains(error.subject, "region \"s\"")) << error.to_string();

    const ConfigError offset = only_error("[[window]]\nname = \"w\"\nregion = \"r\"\noffset = -4096\n");
    EXPECT_EQ(offset.field, "offset");
    EXPECT_TRUE(contains(offset.message, "-4096")) << offset.to_string();
}

TEST(TomlConfig, NegativeStringSize) {
    const ConfigError error = only_error("[[region]]\nname = \"s\"\nanon = true\nsize = \"-1MiB\"\n");
    EXPECT_EQ(error.field, "size");
    EXPECT_TRUE(contains(error.message, "negative")) << error.to_string();
}

TEST(TomlConfig, InvalidTomlNamesTheLine) {
    ConfigErrors errors;
    const auto config = parse_toml_config("mountpoint = \"/mnt\"\n\n[options\ncache = \"auto\"\n", "test.toml", errors);
    EXPECT_FALSE(config.has_value());
    ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
    EXPECT_EQ(errors.all()[0].where, "test.toml:3");
    EXPECT_TRUE(contains(errors.all()[0].message, "not valid TOML")) << errors.to_string();

    ConfigErrors unterminated;
    EXPECT_FALSE(parse_toml_config("[[window]]\nname = \"w\nregion = \"r\"\n", "test.toml", unterminated));
    ASSERT_FALSE(unterminated.empty());
    EXPECT_EQ(unterminated.all()[0].where, "test.toml:2");

    ConfigErrors duplicate;
    EXPECT_FALSE(parse_toml_config("a = 1\nb = 2\n\na = 3\n", "test.toml", duplicate));
    ASSERT_FALSE(duplicate.empty());
    EXPECT_EQ(duplicate.all()[0].where, "test.toml:4");
}

TEST(TomlConfig, WindowWithoutRegion) {
    const ConfigError error = only_error("\n[[window]]\nname = \"w\"\naccess = \"read\"\n");
    EXPECT_EQ(error.where, "test.toml:2");
    EXPECT_EQ(error.field, "region");
    EXPECT_TRUE(contains(error.subject, "window \"w\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "missing")) << error.to_string();
}

TEST(TomlConfig, TablesWithoutName) {
    const ConfigError region = only_error("[[region]]\nanon = true\nsize = 4096\n");
    EXPECT_EQ(region.field, "name");
    EXPECT_TRUE(contains(region.message, "missing")) << region.to_string();
    const ConfigError window = only_error("[[window]]\nregion = \"r\"\n");
    EXPECT_EQ(window.field, "name");
}

TEST(TomlConfig, TablesOfTheWrongShape) {
    const ConfigError options = only_error("options = 1\n");
    EXPECT_EQ(options.field, "options");
    EXPECT_TRUE(contains(options.message, "[options]")) << options.to_string();

    const ConfigError region = only_error("[region]\nname = \"x\"\n");
    EXPECT_EQ(region.field, "region");
    EXPECT_TRUE(contains(region.message, "[[region]]")) << region.to_string();

    const ConfigError element = only_error("window = [1]\n");
    EXPECT_EQ(element.field, "window");
    EXPECT_TRUE(contains(element.message, "[[window]]")) << element.to_string();
}

TEST(TomlConfig, AllProblemsOfOneFileAreReported) {
    ConfigErrors errors;
    const auto config = parse_toml_config(R"(mountpont = "/mnt"
[options]
cache = "often"
[[region]]
name = "d"
fiel = "x"
[[window]]
name = "w"
region = "d"
size = 5
)",
                                          "test.toml", errors);
    // Still returned so that later checks can add their own problems.
    EXPECT_TRUE(config.has_value());
    ASSERT_EQ(errors.all().size(), 4u) << errors.to_string();
    const std::string text = errors.to_string();
    EXPECT_TRUE(contains(text, "test.toml:1")) << text;
    EXPECT_TRUE(contains(text, "test.toml:3")) << text;
    EXPECT_TRUE(contains(text, "test.toml:6")) << text;
    EXPECT_TRUE(contains(text, "test.toml:10")) << text;
}

TEST(TomlConfig, LoadMissingFile) {
    const TempDir dir;
    const std::string path = (dir / "missing.toml").string();
    ConfigErrors errors;
    mapfs::CommandLine line;
    line.source = path;
    line.mountpoint = dir.path().string();
    EXPECT_FALSE(mapfs::build_config(line, mapfs::read_source_file(line), errors).has_value());
    ASSERT_EQ(errors.all().size(), 1u);
    EXPECT_EQ(errors.all()[0].where, path);
    EXPECT_TRUE(contains(errors.all()[0].message, "cannot read")) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].message, "No such file")) << errors.to_string();
}

TEST(TomlConfig, LoadResolvesPathsRelativeToTheFile) {
    const TempDir dir;
    const auto path = dir.write_file("conf/test.toml", R"(mountpoint = "mnt"
[[region]]
name = "d"
file = "../images/disk.img"
[[region]]
name = "abs"
file = "/abs/disk.img"
)");
    ConfigErrors errors;
    const auto config = load_toml_config(path.string(), read_file(path), errors);
    ASSERT_TRUE(config.has_value()) << errors.to_string();
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    EXPECT_EQ(config->mountpoint, std::optional<std::string>((dir.path() / "conf/mnt").string()));
    ASSERT_EQ(config->regions.size(), 2u);
    EXPECT_EQ(config->regions[0].file, std::optional<std::string>((dir.path() / "images/disk.img").string()));
    EXPECT_EQ(config->regions[1].file, std::optional<std::string>("/abs/disk.img"));
    // Messages name the file by its path.
    EXPECT_EQ(config->regions[0].where, path.string() + ":2");
}

TEST(TomlConfig, LoadReportsErrorsWithThePath) {
    const TempDir dir;
    const auto path = dir.write_file("bad.toml", "[options]\n\ncahce = \"none\"\n");
    ConfigErrors errors;
    load_toml_config(path.string(), read_file(path), errors);
    ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
    EXPECT_EQ(errors.all()[0].where, path.string() + ":3");
    EXPECT_TRUE(contains(errors.all()[0].message, "did you mean \"cache\"")) << errors.to_string();
}

}  // namespace
