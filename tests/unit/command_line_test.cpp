// The command line: parse_command_line, then build_config turning it into a Config.
#include "config/command_line.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "config/config_builder.hpp"
#include "config/config_values.hpp"
#include "config/window_spec.hpp"
#include "config/mount_options.hpp"
#include "mapping/plan.hpp"
#include "namespace/loader.hpp"
#include "temp_dir.hpp"

namespace {

using mapfs::Access;
using mapfs::build_config;
using mapfs::CacheMode;
using mapfs::TransportChoice;
using mapfs::CommandLine;
using mapfs::Config;
using mapfs::ConfigErrors;
using mapfs::parse_command_line;
using mapfs::testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

CommandLine parse(std::initializer_list<const char*> arguments, ConfigErrors& errors) {
    std::vector<const char*> argv{"mapfs"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(argv.size() - 1), argv.data(), errors);
}

CommandLine parse_ok(std::initializer_list<const char*> arguments) {
    ConfigErrors errors;
    CommandLine line = parse(arguments, errors);
    EXPECT_TRUE(errors.empty()) << errors.to_string();
    return line;
}

TEST(CommandLine, NoArguments) {
    const CommandLine line = parse_ok({});
    EXPECT_FALSE(line.source.has_value());
    EXPECT_FALSE(line.mountpoint.has_value());
    EXPECT_FALSE(line.foreground || line.debug || line.single_thread || line.help || line.version);
    EXPECT_TRUE(line.window_specs.empty());
    EXPECT_TRUE(line.option_lists.empty());
}

TEST(CommandLine, SourceAndMountpoint) {
    const CommandLine line = parse_ok({"disk.img", "/mnt/x"});
    EXPECT_EQ(line.source, std::optional<std::string>("disk.img"));
    EXPECT_EQ(line.mountpoint, std::optional<std::string>("/mnt/x"));
    EXPECT_FALSE(line.foreground);
}

TEST(CommandLine, ShortFlags) {
    EXPECT_TRUE(parse_ok({"-f"}).foreground);
    EXPECT_TRUE(parse_ok({"-s"}).single_thread);
    EXPECT_TRUE(parse_ok({"-h"}).help);
    EXPECT_TRUE(parse_ok({"-V"}).version);
    const CommandLine debug = parse_ok({"-d"});
    EXPECT_TRUE(debug.debug);
    EXPECT_TRUE(debug.foreground);  // -d implies -f
    EXPECT_FALSE(parse_ok({"-f"}).debug);
    EXPECT_FALSE(parse_ok({"-f"}).single_thread);
}

TEST(CommandLine, CombinedShortFlags) {
    const CommandLine line = parse_ok({"-fs", "src", "mnt"});
    EXPECT_TRUE(line.foreground);
    EXPECT_TRUE(line.single_thread);
    EXPECT_FALSE(line.debug);
    EXPECT_EQ(line.source, std::optional<std::string>("src"));
}

TEST(CommandLine, LongFlags) {
    EXPECT_TRUE(parse_ok({"--help"}).help);
    EXPECT_TRUE(parse_ok({"--version"}).version);
    EXPECT_TRUE(parse_ok({"--foreground"}).foreground);
    EXPECT_TRUE(parse_ok({"--single-thread"}).single_thread);
    const CommandLine debug = parse_ok({"--debug"});
    EXPECT_TRUE(debug.debug && debug.foreground);
    EXPECT_FALSE(parse_ok({"--help"}).version);
}

TEST(CommandLine, OptionListSeparateAndAttached) {
    EXPECT_EQ(parse_ok({"-o", "a,b", "s", "m"}).option_lists, std::vector<std::string>{"a,b"});
    EXPECT_EQ(parse_ok({"-oa,b", "s", "m"}).option_lists, std::vector<std::string>{"a,b"});
    EXPECT_EQ(parse_ok({"--options", "ro"}).option_lists, std::vector<std::string>{"ro"});
    EXPECT_EQ(parse_ok({"--options=ro,allow_other"}).option_lists, std::vector<std::string>{"ro,allow_other"});
    EXPECT_EQ(parse_ok({"-o", "ro", "-oallow_other"}).option_lists, (std::vector<std::string>{"ro", "allow_other"}));
    // Flags before the o in one word still count.
    const CommandLine flags = parse_ok({"-fo", "ro"});
    EXPECT_TRUE(flags.foreground);
    EXPECT_EQ(flags.option_lists, std::vector<std::string>{"ro"});
}

TEST(CommandLine, WindowSpecsEveryWay) {
    const CommandLine line = parse_ok(
        {"-w", "a:anon,size=1M", "-wb:anon,size=1M", "--window", "c:region=a", "--window=d:region=b", "mnt"});
    EXPECT_EQ(line.window_specs,
              (std::vector<std::string>{"a:anon,size=1M", "b:anon,size=1M", "c:region=a", "d:region=b"}));
    EXPECT_EQ(line.source, std::optional<std::string>("mnt"));
    EXPECT_FALSE(line.mountpoint.has_value());
}

TEST(CommandLine, ValueThatLooksLikeAnOption) {
    const CommandLine line = parse_ok({"-w", "-x:region=r", "s", "m"});
    EXPECT_EQ(line.window_specs, std::vector<std::string>{"-x:region=r"});
    EXPECT_EQ(line.source, std::optional<std::string>("s"));
}

TEST(CommandLine, OptionsAfterPositionals) {
    // mount.fuse3 runs: mapfs SOURCE DIR -o rw,nosuid,nodev
    const CommandLine line = parse_ok({"/etc/mapfs/a.toml", "/srv/a", "-o", "rw,nosuid,nodev", "-f"});
    EXPECT_EQ(line.source, std::optional<std::string>("/etc/mapfs/a.toml"));
    EXPECT_EQ(line.mountpoint, std::optional<std::string>("/srv/a"));
    EXPECT_EQ(line.option_lists, std::vector<std::string>{"rw,nosuid,nodev"});
    EXPECT_TRUE(line.foreground);
}

TEST(CommandLine, DoubleDashEndsOptions) {
    const CommandLine line = parse_ok({"-f", "--", "-odd-name.img", "-mnt"});
    EXPECT_TRUE(line.foreground);
    EXPECT_EQ(line.source, std::optional<std::string>("-odd-name.img"));
    EXPECT_EQ(line.mountpoint, std::optional<std::string>("-mnt"));
    EXPECT_TRUE(line.option_lists.empty());
}

TEST(CommandLine, SingleDashIsPositional) {
    const CommandLine line = parse_ok({"-", "mnt"});
    EXPECT_EQ(line.source, std::optional<std::string>("-"));
}

TEST(CommandLine, LogLevel) {
    EXPECT_EQ(parse_ok({"--log-level", "debug"}).log_level, std::optional<std::string>("debug"));
    EXPECT_EQ(parse_ok({"--log-level=warn"}).log_level, std::optional<std::string>("warn"));
    EXPECT_FALSE(parse_ok({"-f"}).log_level.has_value());
}

TEST(CommandLine, UnknownShortOption) {
    ConfigErrors errors;
    parse({"-x", "s", "m"}, errors);
    ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].where, "-x")) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].message, "unknown option")) << errors.to_string();
}

TEST(CommandLine, UnknownLongOption) {
    ConfigErrors errors;
    parse({"--bogus=1", "s", "m"}, errors);
    ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].where, "--bogus")) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].message, "unknown option")) << errors.to_string();
}

TEST(CommandLine, TooManyPositionals) {
    ConfigErrors errors;
    const CommandLine line = parse({"a", "b", "c"}, errors);
    ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].where, "'c'")) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].message, "too many")) << errors.to_string();
    EXPECT_EQ(line.source, std::optional<std::string>("a"));
    EXPECT_EQ(line.mountpoint, std::optional<std::string>("b"));
}

TEST(CommandLine, OptionWithoutValue) {
    for (const char* option : {"-o", "-w", "--window", "--options", "--log-level"}) {
        ConfigErrors errors;
        parse({"s", "m", option}, errors);
        ASSERT_EQ(errors.all().size(), 1u) << option;
        EXPECT_TRUE(contains(errors.all()[0].message, "needs a value")) << errors.to_string();
        EXPECT_TRUE(contains(errors.all()[0].where, option)) << errors.to_string();
    }
}

// --- build_config ----------------------------------------------------------

struct Built {
    std::optional<Config> config;
    ConfigErrors errors;
};

Built build(std::initializer_list<const char*> arguments) {
    Built built;
    const CommandLine line = parse(arguments, built.errors);
    EXPECT_TRUE(built.errors.empty()) << "parse: " << built.errors.to_string();
    built.config = build_config(line, mapfs::read_source_file(line), built.errors);
    return built;
}

Config build_ok(std::initializer_list<const char*> arguments) {
    Built built = build(arguments);
    EXPECT_TRUE(built.errors.empty()) << built.errors.to_string();
    EXPECT_TRUE(built.config.has_value());
    return built.config ? std::move(*built.config) : Config{};
}

class BuildConfig : public ::testing::Test {
protected:
    BuildConfig()
        : image(dir.write_file("images/disk.img", std::string(8192, 'x')).string()),
          mountpoint((dir / "mnt").string()) {}

    TempDir dir;
    std::string image;
    std::string mountpoint;
};

TEST(IsConfigFileName, TomlSuffix) {
    EXPECT_TRUE(mapfs::is_config_file_name("a.toml"));
    EXPECT_TRUE(mapfs::is_config_file_name("/etc/mapfs/images.toml"));
    EXPECT_FALSE(mapfs::is_config_file_name(".toml"));
    EXPECT_FALSE(mapfs::is_config_file_name("disk.img"));
    EXPECT_FALSE(mapfs::is_config_file_name("a.toml.bak"));
    EXPECT_FALSE(mapfs::is_config_file_name("toml"));
}

TEST_F(BuildConfig, BackingFileIsOneWholeWindow) {
    const Config config = build_ok({image.c_str(), mountpoint.c_str()});
    EXPECT_EQ(config.mountpoint, std::optional<std::string>(mountpoint));
    EXPECT_TRUE(contains(config.mountpoint_where, mountpoint)) << config.mountpoint_where;
    ASSERT_EQ(config.regions.size(), 1u);
    EXPECT_EQ(config.regions[0].name, "disk.img");
    EXPECT_EQ(config.regions[0].file, std::optional<std::string>(image));
    EXPECT_FALSE(config.regions[0].anon);
    ASSERT_EQ(config.windows.size(), 1u);
    EXPECT_EQ(config.windows[0].name, "disk.img");
    EXPECT_EQ(config.windows[0].region, "disk.img");
    EXPECT_EQ(config.windows[0].offset_bytes, 0u);
    EXPECT_FALSE(config.windows[0].length_bytes.has_value());  // the whole file
    EXPECT_FALSE(config.windows[0].access.has_value());
    EXPECT_TRUE(contains(config.windows[0].where, image)) << config.windows[0].where;
}

TEST_F(BuildConfig, TrailingSlashOfSourceIsNotPartOfTheName) {
    const Config config = build_ok({"some/dir/data.bin/", mountpoint.c_str()});
    ASSERT_EQ(config.windows.size(), 1u);
    EXPECT_EQ(config.windows[0].name, "data.bin");
}

TEST_F(BuildConfig, WindowsWithoutRegionViewTheSource) {
    const Config config = build_ok({image.c_str(), mountpoint.c_str(), "-w", "head:length=512,access=read", "-w",
                                    "tail:offset=4096,access=copy"});
    ASSERT_EQ(config.regions.size(), 1u);
    ASSERT_EQ(config.windows.size(), 3u);
    EXPECT_EQ(config.windows[1].name, "head");
    EXPECT_EQ(config.windows[1].region, "disk.img");
    EXPECT_EQ(config.windows[1].length_bytes, std::optional<std::uint64_t>(512));
    EXPECT_EQ(config.windows[1].access, std::optional<Access>(Access::read));
    EXPECT_EQ(config.windows[2].name, "tail");
    EXPECT_EQ(config.windows[2].region, "disk.img");
    EXPECT_EQ(config.windows[2].offset_bytes, 4096u);
    EXPECT_EQ(config.windows[2].access, std::optional<Access>(Access::copy));
}

TEST_F(BuildConfig, WindowSpecsAndMountpointOnly) {
    const std::string p1 = "p1:file=" + image + ",offset=1K,length=1K";
    const std::string p2 = "p2:file=" + image + ",offset=2K";
    const Config config = build_ok({"-w", p1.c_str(), "-w", p2.c_str(), "-w", "scratch:anon,size=64KiB", mountpoint.c_str()});
    EXPECT_EQ(config.mountpoint, std::optional<std::string>(mountpoint));
    // Both file windows name one region; the anon window brings its own.
    ASSERT_EQ(config.regions.size(), 2u);
    EXPECT_EQ(config.regions[0].file, std::optional<std::string>(image));
    EXPECT_TRUE(config.regions[1].anon);
    EXPECT_EQ(config.regions[1].size_bytes, std::optional<std::uint64_t>(65536));
    ASSERT_EQ(config.windows.size(), 3u);
    EXPECT_EQ(config.windows[0].region, config.regions[0].name);
    EXPECT_EQ(config.windows[1].region, config.regions[0].name);
    EXPECT_EQ(config.windows[2].region, config.regions[1].name);
    EXPECT_EQ(config.windows[0].offset_bytes, 1024u);
    EXPECT_EQ(config.windows[1].offset_bytes, 2048u);
}

TEST_F(BuildConfig, WindowWithoutRegionAndNoSourceIsAnError) {
    Built built = build({"-w", "a:anon,size=1M", "-w", "b:length=10", mountpoint.c_str()});
    ASSERT_EQ(built.errors.all().size(), 1u) << built.errors.to_string();
    const auto& error = built.errors.all()[0];
    EXPECT_EQ(error.field, "region");
    EXPECT_TRUE(contains(error.subject, "\"b\"")) << error.to_string();
    EXPECT_TRUE(contains(error.where, "b:length=10")) << error.to_string();
}

TEST_F(BuildConfig, BadWindowSpecIsReported) {
    Built built = build({image.c_str(), mountpoint.c_str(), "-w", "p1:lenght=1"});
    ASSERT_EQ(built.errors.all().size(), 1u) << built.errors.to_string();
    EXPECT_TRUE(contains(built.errors.all()[0].message, "did you mean \"length\"")) << built.errors.to_string();
    ASSERT_TRUE(built.config.has_value());
    EXPECT_EQ(built.config->windows.size(), 1u);  // only the SOURCE window
}

TEST_F(BuildConfig, TomlSource) {
    const auto toml = dir.write_file("conf/images.toml", R"(mountpoint = "../mnt"
[options]
cache = "keep"
[[region]]
name = "disk"
file = "../images/disk.img"
[[window]]
name = "disk/p1"
region = "disk"
offset = 4096
)");
    const Config config = build_ok({toml.c_str()});
    // The mount point comes from the file, relative to it.
    EXPECT_EQ(config.mountpoint, std::optional<std::string>(mountpoint));
    EXPECT_EQ(config.options.cache, CacheMode::keep);
    ASSERT_EQ(config.regions.size(), 1u);
    EXPECT_EQ(config.regions[0].file, std::optional<std::string>(image));
    ASSERT_EQ(config.windows.size(), 1u);
    EXPECT_EQ(config.windows[0].name, "disk/p1");
    EXPECT_EQ(config.windows[0].offset_bytes, 4096u);
}

TEST_F(BuildConfig, TomlSourceWithMountpointAndExtraWindows) {
    const auto toml = dir.write_file("a.toml", "mountpoint = \"/nonexistent\"\n[[region]]\nname = \"disk\"\nfile = \"" +
                                                   image + "\"\n");
    const Config config = build_ok({toml.c_str(), mountpoint.c_str(), "-w", "w:region=disk,length=100", "-o", "cache=none"});
    // The command line wins over the file.
    EXPECT_EQ(config.mountpoint, std::optional<std::string>(mountpoint));
    EXPECT_EQ(config.options.cache, CacheMode::none);
    ASSERT_EQ(config.windows.size(), 1u);
    EXPECT_EQ(config.windows[0].region, "disk");
}

// "-w 'NAME:file=PATH,...' makes an implicit region per backing file": a
// region of the config file that happens to be named like PATH must not
// capture the window.
TEST_F(BuildConfig, ImplicitFileRegionIsNotCapturedByANamedRegion) {
    const auto toml = dir.write_file("b.toml", "[[region]]\nname = \"" + image + "\"\nanon = true\nsize = 4096\n");
    const std::string spec = "p:file=" + image;
    const Config config = build_ok({toml.c_str(), mountpoint.c_str(), "-w", spec.c_str()});
    ASSERT_EQ(config.windows.size(), 1u);
    const std::string& region_name = config.windows[0].region;
    const auto region = std::find_if(config.regions.begin(), config.regions.end(),
                                     [&](const mapfs::RegionConfig& r) { return r.name == region_name; });
    ASSERT_NE(region, config.regions.end());
    EXPECT_FALSE(region->anon) << "window p:file=" << image << " views the anonymous region of the same name";
    EXPECT_EQ(region->file, std::optional<std::string>(image));
}

// An empty file= (say file=$UNSET) must not end up mounting SOURCE in its place.
TEST_F(BuildConfig, EmptyFileInAWindowSpecIsRejectedBeforeMounting) {
    std::filesystem::create_directory(mountpoint);
    Built built = build({image.c_str(), mountpoint.c_str(), "-w", "p1:file=,access=write"});
    ASSERT_TRUE(built.config.has_value());
    const auto plan = mapfs::make_plan(*built.config, built.errors);
    EXPECT_FALSE(plan.has_value());
    ASSERT_FALSE(built.errors.empty());
    EXPECT_TRUE(contains(built.errors.to_string(), "p1:file=")) << built.errors.to_string();
}

TEST_F(BuildConfig, TomlSourceThatIsMissing) {
    const std::string missing = (dir / "nope.toml").string();
    Built built = build({missing.c_str(), mountpoint.c_str()});
    EXPECT_FALSE(built.config.has_value());
    ASSERT_EQ(built.errors.all().size(), 1u);
    EXPECT_EQ(built.errors.all()[0].where, missing);
}

TEST_F(BuildConfig, TomlSourceWithErrorsStillGivesAConfig) {
    const auto toml = dir.write_file("bad.toml", "[options]\ncache = \"often\"\n");
    Built built = build({toml.c_str(), mountpoint.c_str()});
    EXPECT_TRUE(built.config.has_value());
    ASSERT_EQ(built.errors.all().size(), 1u);
    EXPECT_EQ(built.errors.all()[0].where, toml.string() + ":2");
}

TEST_F(BuildConfig, MountOptionsApplied) {
    const Config config = build_ok({image.c_str(), mountpoint.c_str(), "-o",
                                    "cache=none,allow_other,ro,uid=1000,gid=100,umask=027,fsname=imgs,nosuid"});
    EXPECT_EQ(config.options.cache, CacheMode::none);
    EXPECT_TRUE(config.options.allow_other);
    EXPECT_TRUE(config.options.read_only);
    EXPECT_EQ(config.options.uid, std::optional<uid_t>(1000));
    EXPECT_EQ(config.options.gid, std::optional<gid_t>(100));
    EXPECT_EQ(config.options.umask, std::optional<mode_t>(027));
    EXPECT_EQ(config.options.fsname, "imgs");
    EXPECT_TRUE(config.options.kernel_options.empty());  // nosuid is always on
}

TEST_F(BuildConfig, LaterOptionsWin) {
    const Config config = build_ok({image.c_str(), mountpoint.c_str(), "-o", "ro", "-o", "rw,cache=keep,cache=none"});
    EXPECT_FALSE(config.options.read_only);
    EXPECT_EQ(config.options.cache, CacheMode::none);
}

TEST_F(BuildConfig, GenericMountOptionsAreAcceptedAndIgnored) {
    const Config config = build_ok({image.c_str(), mountpoint.c_str(), "-o",
                                    "defaults,nofail,_netdev,x-systemd.automount,x-systemd.idle-timeout=60,"
                                    "auto,noauto,user,default_permissions,comment=x,rw"});
    EXPECT_TRUE(config.options.kernel_options.empty());
    EXPECT_FALSE(config.options.read_only);
    EXPECT_FALSE(config.options.allow_other);
    EXPECT_EQ(config.options.cache, CacheMode::automatic);
}

TEST_F(BuildConfig, KernelFlagsAreKept) {
    const Config config = build_ok({image.c_str(), mountpoint.c_str(), "-o", "rw,nosuid,nodev", "-o", "noexec,noatime"});
    EXPECT_EQ(config.options.kernel_options, (std::vector<std::string>{"noexec", "noatime"}));
}

// Every mount is nosuid,nodev (session.cpp); what mount(8) passes for fstab's
// "defaults" is accepted and changes nothing.
TEST_F(BuildConfig, SuidAndDevAreAcceptedAndHaveNoEffect) {
    const Config config = build_ok({image.c_str(), mountpoint.c_str(), "-o", "rw,dev,suid,exec"});
    EXPECT_EQ(config.options.kernel_options, (std::vector<std::string>{"exec"}));
    const std::string kernel = mapfs::kernel_mount_options(config.options);
    EXPECT_TRUE(contains(kernel, ",nosuid,nodev")) << kernel;
    EXPECT_FALSE(contains(kernel, ",suid") || contains(kernel, ",dev")) << kernel;
}

TEST_F(BuildConfig, MountFuse3Style) {
    // mount -t fuse.mapfs disk.img DIR -o rw,nosuid  ->  mapfs disk.img DIR -o rw,nosuid
    const Config config = build_ok({image.c_str(), mountpoint.c_str(), "-o", "rw,nosuid"});
    EXPECT_EQ(config.mountpoint, std::optional<std::string>(mountpoint));
    EXPECT_TRUE(config.options.kernel_options.empty());
    ASSERT_EQ(config.windows.size(), 1u);
}

TEST_F(BuildConfig, TransportOptionInEverySpelling) {
    EXPECT_EQ(build_ok({image.c_str(), mountpoint.c_str()}).options.transport, TransportChoice::automatic);
    for (const char* spelling : {"transport=uring", "transport=io_uring"})
        EXPECT_EQ(build_ok({image.c_str(), mountpoint.c_str(), "-o", spelling}).options.transport, TransportChoice::io_uring);
    for (const char* spelling : {"transport=dev", "transport=fuse"})
        EXPECT_EQ(build_ok({image.c_str(), mountpoint.c_str(), "-o", spelling}).options.transport, TransportChoice::dev_fuse);
    Built built = build({image.c_str(), mountpoint.c_str(), "-o", "transport=rdma"});
    ASSERT_EQ(built.errors.all().size(), 1u) << built.errors.to_string();
    EXPECT_TRUE(contains(built.errors.all()[0].message, "unknown transport \"rdma\" (use auto, uring or dev)"))
        << built.errors.to_string();
}

TEST_F(BuildConfig, UnknownMountOption) {
    Built built = build({image.c_str(), mountpoint.c_str(), "-o", "nosuid,bogus"});
    ASSERT_EQ(built.errors.all().size(), 1u) << built.errors.to_string();
    const auto& error = built.errors.all()[0];
    EXPECT_TRUE(contains(error.where, "-o 'nosuid,bogus'")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "unknown mount option \"bogus\"")) << error.to_string();
}

TEST_F(BuildConfig, MisspeltMountOptionHasAHint) {
    Built built = build({image.c_str(), mountpoint.c_str(), "-o", "allow_othr"});
    ASSERT_EQ(built.errors.all().size(), 1u) << built.errors.to_string();
    EXPECT_TRUE(contains(built.errors.all()[0].message, "did you mean \"allow_other\"")) << built.errors.to_string();

    Built valued = build({image.c_str(), mountpoint.c_str(), "-o", "cahce=none"});
    ASSERT_EQ(valued.errors.all().size(), 1u) << valued.errors.to_string();
    EXPECT_TRUE(contains(valued.errors.all()[0].message, "did you mean \"cache\"")) << valued.errors.to_string();
}

TEST_F(BuildConfig, BadMountOptionValues) {
    for (const char* list : {"cache=often", "uid=root", "gid=x", "umask=999", "log_level=loud"}) {
        Built built = build({image.c_str(), mountpoint.c_str(), "-o", list});
        ASSERT_EQ(built.errors.all().size(), 1u) << list << ": " << built.errors.to_string();
        const std::string key(list, std::string(list).find('='));
        EXPECT_TRUE(contains(built.errors.all()[0].subject, key)) << built.errors.to_string();
    }
    Built bare = build({image.c_str(), mountpoint.c_str(), "-o", "uid"});
    ASSERT_EQ(bare.errors.all().size(), 1u);
    EXPECT_TRUE(contains(bare.errors.all()[0].message, "needs a value")) << bare.errors.to_string();
}

TEST_F(BuildConfig, LogLevelOverride) {
    EXPECT_EQ(build_ok({image.c_str(), mountpoint.c_str(), "--log-level", "debug"}).options.log_level, "debug");
    Built bad = build({image.c_str(), mountpoint.c_str(), "--log-level", "loud"});
    ASSERT_EQ(bad.errors.all().size(), 1u);
    EXPECT_TRUE(contains(bad.errors.all()[0].where, "--log-level")) << bad.errors.to_string();
}

TEST_F(BuildConfig, MissingMountpoint) {
    Built built = build({image.c_str()});
    EXPECT_FALSE(built.config.has_value());
    ASSERT_EQ(built.errors.all().size(), 1u);
    EXPECT_TRUE(contains(built.errors.all()[0].message, "missing MOUNTPOINT")) << built.errors.to_string();
}

TEST_F(BuildConfig, MissingEverything) {
    Built built = build({"-f"});
    EXPECT_FALSE(built.config.has_value());
    ASSERT_EQ(built.errors.all().size(), 1u);
    EXPECT_TRUE(contains(built.errors.all()[0].message, "missing SOURCE")) << built.errors.to_string();
}

TEST(UsageText, MentionsTheProgramAndTheOptions) {
    const std::string text = mapfs::usage_text("mapfs");
    EXPECT_TRUE(contains(text, "usage: mapfs"));
    for (const char* option : {"--window", "-o", "--foreground", "--version", "allow_other", "cache="})
        EXPECT_TRUE(contains(text, option)) << option;
}

}  // namespace

namespace {

// --help lists every -w key and every log level: a key added without its
// line in the help fails here.
TEST(Usage, NamesEveryWindowKeyAndEveryLogLevel) {
    const std::string usage = mapfs::usage_text("mapfs");
    for (const std::string& key : mapfs::window_spec_keys()) {
        const bool listed = usage.find(key + "=") != std::string::npos || usage.find(key + ",") != std::string::npos ||
                            usage.find(" " + key + " ") != std::string::npos;
        EXPECT_TRUE(listed) << key;
    }
    for (const std::string& level : mapfs::log_level_names()) EXPECT_NE(usage.find(level), std::string::npos) << level;
}

}  // namespace
