// make_plan: opening backing files, resolving ranges and defaults, and every
// configuration error it reports.
#include "mapping/plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "config_builders.hpp"
#include "temp_dir.hpp"

namespace {

using mapfs::Access;
using mapfs::CacheMode;
using mapfs::Config;
using mapfs::ConfigError;
using mapfs::ConfigErrors;
using mapfs::make_plan;
using mapfs::max_anon_region_bytes;
using mapfs::Plan;
using mapfs::RegionConfig;
using mapfs::WindowConfig;
using mapfs::testing::anon_region;
using mapfs::testing::file_region;
using mapfs::testing::pattern_bytes;
using mapfs::testing::window_config;
using mapfs::testing::read_file;
using mapfs::testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class PlanTest : public ::testing::Test {
protected:
    static constexpr std::size_t image_size = 64 * 1024;

    PlanTest() : content(pattern_bytes(image_size, 1)) {
        image = dir.write_file("disk.img", content).string();
        mountpoint = (dir / "mnt").string();
        std::filesystem::create_directory(mountpoint);
    }

    // A config with the mount point and one file region "disk".
    Config base_config() const {
        Config config;
        config.mountpoint = mountpoint;
        config.mountpoint_where = "argument '" + mountpoint + "'";
        config.regions.push_back(file_region("disk", image));
        return config;
    }

    Plan plan_ok(Config config) const {
        ConfigErrors errors;
        auto plan = make_plan(std::move(config), errors);
        EXPECT_TRUE(errors.empty()) << errors.to_string();
        EXPECT_TRUE(plan.has_value());
        return plan ? std::move(*plan) : Plan{};
    }

    // Plans a config that must fail; returns the first error with `field`
    // after checking that there is one, and that the backing file is as it was.
    ConfigError plan_error(Config config, const std::string& field) const {
        ConfigErrors errors;
        const auto plan = make_plan(std::move(config), errors);
        EXPECT_FALSE(plan.has_value());
        EXPECT_FALSE(errors.empty());
        EXPECT_EQ(read_file(image), content) << "make_plan changed the backing file";
        EXPECT_EQ(std::filesystem::file_size(image), image_size);
        for (const ConfigError& error : errors.all())
            if (error.field == field) return error;
        ADD_FAILURE() << "no error with field \"" << field << "\" in:\n" << errors.to_string();
        return {};
    }

    TempDir dir;
    std::string content;
    std::string image;
    std::string mountpoint;
};

TEST_F(PlanTest, ResolvesOffsetAndLength) {
    Config config = base_config();
    config.windows.push_back(window_config("p1", "disk", 12345, 1000, Access::read));
    const Plan plan = plan_ok(std::move(config));
    EXPECT_EQ(plan.mountpoint, std::filesystem::canonical(mountpoint).string());
    ASSERT_EQ(plan.regions.size(), 1u);
    EXPECT_EQ(plan.regions[0].name, "disk");
    EXPECT_EQ(plan.regions[0].path, std::filesystem::canonical(image).string());
    EXPECT_EQ(plan.regions[0].size_bytes, image_size);
    EXPECT_TRUE(plan.regions[0].fd.valid());
    EXPECT_FALSE(plan.regions[0].anon);
    ASSERT_EQ(plan.windows.size(), 1u);
    EXPECT_EQ(plan.windows[0].name, "p1");
    EXPECT_EQ(plan.windows[0].region_index, 0u);
    EXPECT_EQ(plan.windows[0].offset_bytes, 12345u);
    EXPECT_EQ(plan.windows[0].length_bytes, 1000u);
    EXPECT_EQ(plan.windows[0].access, Access::read);
}

TEST_F(PlanTest, RelativeMountpointBecomesAbsolute) {
    Config config = base_config();
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir.path());
    config.mountpoint = "mnt";
    config.windows.push_back(window_config("w", "disk"));
    const Plan plan = plan_ok(std::move(config));
    std::filesystem::current_path(cwd);
    EXPECT_EQ(plan.mountpoint, std::filesystem::canonical(mountpoint).string());
}

TEST_F(PlanTest, OmittedLengthRunsToTheEndOfTheFile) {
    Config config = base_config();
    config.windows.push_back(window_config("whole", "disk"));
    config.windows.push_back(window_config("tail", "disk", 4096));
    config.windows.push_back(window_config("empty", "disk", image_size));
    const Plan plan = plan_ok(std::move(config));
    ASSERT_EQ(plan.windows.size(), 3u);
    EXPECT_EQ(plan.windows[0].offset_bytes, 0u);
    EXPECT_EQ(plan.windows[0].length_bytes, image_size);
    EXPECT_EQ(plan.windows[1].offset_bytes, 4096u);
    EXPECT_EQ(plan.windows[1].length_bytes, image_size - 4096);
    EXPECT_EQ(plan.windows[2].offset_bytes, image_size);
    EXPECT_EQ(plan.windows[2].length_bytes, 0u);
}

TEST_F(PlanTest, WindowUpToTheLastByte) {
    Config config = base_config();
    config.windows.push_back(window_config("last", "disk", image_size - 1, 1));
    const Plan plan = plan_ok(std::move(config));
    EXPECT_EQ(plan.windows[0].length_bytes, 1u);
}

TEST_F(PlanTest, DefaultAccessIsWriteWhenTheFileIsWritable) {
    Config config = base_config();
    config.windows.push_back(window_config("w", "disk"));
    const Plan plan = plan_ok(std::move(config));
    EXPECT_TRUE(plan.regions[0].writable);
    EXPECT_EQ(plan.windows[0].access, Access::write);
    EXPECT_EQ(plan.windows[0].mode, 0644u);
}

TEST_F(PlanTest, OnlyReadWindowsOpenTheFileReadOnly) {
    Config config = base_config();
    config.windows.push_back(window_config("a", "disk", 0, 10, Access::read));
    config.windows.push_back(window_config("b", "disk", 0, 10, Access::copy));
    const Plan plan = plan_ok(std::move(config));
    EXPECT_FALSE(plan.regions[0].writable);
    const int flags = ::fcntl(plan.regions[0].fd.get(), F_GETFL);
    EXPECT_EQ(flags & O_ACCMODE, O_RDONLY);
}

TEST_F(PlanTest, DefaultModes) {
    Config config = base_config();
    config.windows.push_back(window_config("r", "disk", 0, 10, Access::read));
    config.windows.push_back(window_config("w", "disk", 0, 10, Access::write));
    config.windows.push_back(window_config("c", "disk", 0, 10, Access::copy));
    const Plan plan = plan_ok(std::move(config));
    ASSERT_EQ(plan.windows.size(), 3u);
    EXPECT_EQ(plan.windows[0].access, Access::read);
    EXPECT_EQ(plan.windows[0].mode, 0444u);
    EXPECT_EQ(plan.windows[1].access, Access::write);
    EXPECT_EQ(plan.windows[1].mode, 0644u);
    EXPECT_EQ(plan.windows[2].access, Access::copy);
    EXPECT_EQ(plan.windows[2].mode, 0644u);
    EXPECT_TRUE(plan.regions[0].writable);
}

TEST_F(PlanTest, UmaskAppliesToDefaultModesOnly) {
    Config config = base_config();
    config.options.umask = 027;
    config.windows.push_back(window_config("r", "disk", 0, 10, Access::read));
    config.windows.push_back(window_config("w", "disk", 0, 10, Access::write));
    config.windows.push_back(window_config("explicit", "disk", 0, 10, Access::write));
    config.windows.back().mode = 0666;
    const Plan plan = plan_ok(std::move(config));
    EXPECT_EQ(plan.windows[0].mode, 0440u);
    EXPECT_EQ(plan.windows[1].mode, 0640u);
    EXPECT_EQ(plan.windows[2].mode, 0666u);
}

TEST_F(PlanTest, OwnersDefaultToTheDaemonThenOptionsThenWindow) {
    Config config = base_config();
    config.windows.push_back(window_config("default", "disk", 0, 10));
    Plan plan = plan_ok(config);
    EXPECT_EQ(plan.windows[0].uid, ::getuid());
    EXPECT_EQ(plan.windows[0].gid, ::getgid());

    config.options.uid = 1234;
    config.options.gid = 5678;
    config.windows.push_back(window_config("explicit", "disk", 0, 10));
    config.windows.back().uid = 42;
    config.windows.back().gid = 43;
    config.windows.back().mode = 0600;
    plan = plan_ok(config);
    EXPECT_EQ(plan.windows[0].uid, 1234u);
    EXPECT_EQ(plan.windows[0].gid, 5678u);
    EXPECT_EQ(plan.windows[1].uid, 42u);
    EXPECT_EQ(plan.windows[1].gid, 43u);
    EXPECT_EQ(plan.windows[1].mode, 0600u);
}

TEST_F(PlanTest, CacheDefaultsToTheMountOption) {
    Config config = base_config();
    config.options.cache = CacheMode::keep;
    config.windows.push_back(window_config("a", "disk", 0, 10));
    config.windows.push_back(window_config("b", "disk", 0, 10));
    config.windows.back().cache = CacheMode::none;
    const Plan plan = plan_ok(std::move(config));
    EXPECT_EQ(plan.windows[0].cache, CacheMode::keep);
    EXPECT_EQ(plan.windows[1].cache, CacheMode::none);
    EXPECT_EQ(plan.options.cache, CacheMode::keep);

    Config automatic = base_config();
    automatic.windows.push_back(window_config("a", "disk"));
    EXPECT_EQ(plan_ok(std::move(automatic)).windows[0].cache, CacheMode::automatic);
}

TEST_F(PlanTest, ReadOnlyMountTurnsWriteWindowsIntoRead) {
    Config config = base_config();
    config.options.read_only = true;
    config.windows.push_back(window_config("explicit", "disk", 0, 10, Access::write));
    config.windows.push_back(window_config("implicit", "disk", 0, 10));
    config.windows.push_back(window_config("copy", "disk", 0, 10, Access::copy));
    const Plan plan = plan_ok(std::move(config));
    EXPECT_FALSE(plan.regions[0].writable);
    EXPECT_EQ(plan.windows[0].access, Access::read);
    EXPECT_EQ(plan.windows[0].mode, 0444u);
    EXPECT_EQ(plan.windows[1].access, Access::read);
    EXPECT_EQ(plan.windows[2].access, Access::copy);
    EXPECT_TRUE(plan.options.read_only);
}

TEST_F(PlanTest, AnonymousRegion) {
    Config config = base_config();
    config.regions.push_back(anon_region("scratch", 1 << 20));
    config.windows.push_back(window_config("scratch", "scratch"));
    config.windows.push_back(window_config("half", "scratch", 1 << 19, std::nullopt, Access::read));
    const Plan plan = plan_ok(std::move(config));
    ASSERT_EQ(plan.regions.size(), 2u);
    const auto& region = plan.regions[plan.windows[0].region_index];
    EXPECT_EQ(region.name, "scratch");
    EXPECT_TRUE(region.anon);
    EXPECT_TRUE(region.writable);
    EXPECT_TRUE(region.path.empty());
    EXPECT_EQ(region.size_bytes, 1u << 20);
    ASSERT_TRUE(region.fd.valid());
    struct stat info {};
    ASSERT_EQ(::fstat(region.fd.get(), &info), 0);
    EXPECT_EQ(info.st_size, 1 << 20);
    EXPECT_EQ(plan.windows[0].access, Access::write);
    EXPECT_EQ(plan.windows[0].length_bytes, 1u << 20);
    EXPECT_EQ(plan.windows[1].length_bytes, 1u << 19);
}

TEST_F(PlanTest, TwoRegionsOnTheSameFileShareOneOpenedRegion) {
    Config config = base_config();
    // Another path to the same inode.
    const std::string other_path = (dir.path() / "." / "disk.img").string();
    std::filesystem::create_symlink(image, dir / "link.img");
    config.regions.push_back(file_region("again", other_path));
    config.regions.push_back(file_region("link", (dir / "link.img").string()));
    config.windows.push_back(window_config("a", "disk", 0, 10, Access::read));
    config.windows.push_back(window_config("b", "again", 10, 10, Access::write));
    config.windows.push_back(window_config("c", "link", 20, 10, Access::read));
    const Plan plan = plan_ok(std::move(config));
    ASSERT_EQ(plan.regions.size(), 1u);
    ASSERT_EQ(plan.windows.size(), 3u);
    for (const auto& resolved : plan.windows) EXPECT_EQ(resolved.region_index, 0u) << resolved.name;
    // The write window needs the shared fd open for writing.
    EXPECT_TRUE(plan.regions[0].writable);
    EXPECT_EQ(plan.windows[1].access, Access::write);
}

TEST_F(PlanTest, SuccessfulPlanDoesNotChangeTheFile) {
    Config config = base_config();
    config.windows.push_back(window_config("w", "disk", 0, std::nullopt, Access::write));
    {
        const Plan plan = plan_ok(std::move(config));
        EXPECT_EQ(plan.windows.size(), 1u);
    }
    EXPECT_EQ(read_file(image), content);
}

TEST_F(PlanTest, MissingBackingFile) {
    Config config = base_config();
    const std::string missing = (dir / "missing.img").string();
    config.regions[0].file = missing;
    config.windows.push_back(window_config("w", "disk"));
    const ConfigError error = plan_error(std::move(config), "file");
    EXPECT_TRUE(contains(error.subject, "region \"disk\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, missing)) << error.to_string();
    EXPECT_TRUE(contains(error.message, "No such file")) << error.to_string();
    EXPECT_EQ(error.where, "test.toml:region disk");
    // A missing backing file is never created.
    EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(PlanTest, MissingBackingFileGivesOnlyOneError) {
    Config config = base_config();
    config.regions[0].file = (dir / "missing.img").string();
    config.windows.push_back(window_config("w", "disk"));
    ConfigErrors errors;
    EXPECT_FALSE(make_plan(std::move(config), errors).has_value());
    // The window of the failed region does not add "no region named".
    EXPECT_EQ(errors.all().size(), 1u) << errors.to_string();
}

TEST_F(PlanTest, DirectoryAsBackingFile) {
    Config config = base_config();
    config.regions[0].file = dir.path().string();
    config.windows.push_back(window_config("w", "disk"));
    const ConfigError error = plan_error(std::move(config), "file");
    EXPECT_TRUE(contains(error.message, "is a directory")) << error.to_string();
}

TEST_F(PlanTest, OffsetPastTheEnd) {
    Config config = base_config();
    config.windows.push_back(window_config("w", "disk", image_size + 1));
    const ConfigError error = plan_error(std::move(config), "offset");
    EXPECT_TRUE(contains(error.subject, "window \"w\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, std::to_string(image_size + 1))) << error.to_string();
    EXPECT_TRUE(contains(error.message, std::to_string(image_size))) << error.to_string();
    EXPECT_EQ(error.where, "test.toml:window w");
}

TEST_F(PlanTest, OffsetPlusLengthPastTheEnd) {
    Config config = base_config();
    config.windows.push_back(window_config("w", "disk", 4096, image_size - 4095));
    const ConfigError error = plan_error(std::move(config), "length");
    EXPECT_TRUE(contains(error.subject, "window \"w\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "past the end")) << error.to_string();
    EXPECT_TRUE(contains(error.message, std::to_string(image_size + 1))) << error.to_string();
}

TEST_F(PlanTest, OffsetPlusLengthOverflows) {
    Config config = base_config();
    config.windows.push_back(window_config("w", "disk", 1, UINT64_MAX));
    const ConfigError error = plan_error(std::move(config), "length");
    EXPECT_TRUE(contains(error.message, "overflows")) << error.to_string();
}

TEST_F(PlanTest, AnonWithoutSize) {
    Config config = base_config();
    config.regions.push_back(anon_region("scratch", std::nullopt));
    config.windows.push_back(window_config("s", "scratch"));
    const ConfigError error = plan_error(std::move(config), "size");
    EXPECT_TRUE(contains(error.subject, "region \"scratch\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "needs a size")) << error.to_string();
}

TEST_F(PlanTest, AnonSizeZero) {
    Config config = base_config();
    config.regions.push_back(anon_region("scratch", 0));
    config.windows.push_back(window_config("s", "scratch"));
    const ConfigError error = plan_error(std::move(config), "size");
    EXPECT_TRUE(contains(error.message, "more than 0")) << error.to_string();
}

TEST_F(PlanTest, AnonSizeAboveTheMaximum) {
    Config config = base_config();
    config.regions.push_back(anon_region("huge", max_anon_region_bytes + 1));
    config.windows.push_back(window_config("s", "huge"));
    const ConfigError error = plan_error(std::move(config), "size");
    EXPECT_TRUE(contains(error.message, "64TiB")) << error.to_string();
}

TEST_F(PlanTest, AnonSizeAtTheMaximumIsAccepted) {
    // ftruncate of a memfd costs no memory until pages are touched.
    Config config = base_config();
    config.regions.push_back(anon_region("big", max_anon_region_bytes));
    config.windows.push_back(window_config("s", "big", 0, 4096));
    const Plan plan = plan_ok(std::move(config));
    EXPECT_EQ(plan.regions.back().size_bytes, max_anon_region_bytes);
}

TEST_F(PlanTest, RegionWithBothOrNeitherKind) {
    Config both = base_config();
    both.regions[0].anon = true;
    both.regions[0].size_bytes = 4096;
    both.windows.push_back(window_config("w", "disk"));
    ConfigErrors errors;
    EXPECT_FALSE(make_plan(std::move(both), errors).has_value());
    ASSERT_FALSE(errors.empty());
    EXPECT_TRUE(contains(errors.all()[0].subject, "region \"disk\"")) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].message, "either")) << errors.to_string();

    Config neither = base_config();
    neither.regions[0].file.reset();
    neither.windows.push_back(window_config("w", "disk"));
    ConfigErrors neither_errors;
    EXPECT_FALSE(make_plan(std::move(neither), neither_errors).has_value());
    ASSERT_FALSE(neither_errors.empty());
    EXPECT_TRUE(contains(neither_errors.all()[0].message, "either")) << neither_errors.to_string();
}

TEST_F(PlanTest, SizeOnAFileRegion) {
    Config config = base_config();
    config.regions[0].size_bytes = 4096;
    config.windows.push_back(window_config("w", "disk"));
    const ConfigError error = plan_error(std::move(config), "size");
    EXPECT_TRUE(contains(error.message, "anonymous")) << error.to_string();
}

TEST_F(PlanTest, EmptyRegionName) {
    Config config = base_config();
    config.regions.push_back(anon_region("", 4096));
    config.windows.push_back(window_config("w", "disk"));
    const ConfigError error = plan_error(std::move(config), "name");
    EXPECT_TRUE(contains(error.message, "empty")) << error.to_string();
}

TEST_F(PlanTest, DuplicateWindowNames) {
    Config config = base_config();
    config.windows.push_back(window_config("w", "disk", 0, 10));
    config.windows.push_back(window_config("w", "disk", 10, 10));
    const ConfigError error = plan_error(std::move(config), "name");
    EXPECT_TRUE(contains(error.subject, "window \"w\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "same name")) << error.to_string();
}

TEST_F(PlanTest, DuplicateRegionNames) {
    Config config = base_config();
    config.regions.push_back(anon_region("disk", 4096));
    config.windows.push_back(window_config("w", "disk"));
    const ConfigError error = plan_error(std::move(config), "name");
    EXPECT_TRUE(contains(error.subject, "region \"disk\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "same name")) << error.to_string();
}

TEST_F(PlanTest, InvalidWindowNames) {
    for (const std::string& name : {std::string(".."), std::string("a/../b"), std::string("."), std::string("a/./b"),
                                    std::string("a//b"), std::string("/a"), std::string("a/"), std::string("a\0b", 3),
                                    std::string(".mapfs"), std::string(".mapfs/x"), std::string("")}) {
        Config config = base_config();
        config.windows.push_back(window_config(name, "disk", 0, 10));
        const ConfigError error = plan_error(std::move(config), "name");
        EXPECT_TRUE(contains(error.subject, "window")) << error.to_string();
        EXPECT_FALSE(error.message.empty());
    }
}

TEST_F(PlanTest, FileDirectoryClash) {
    Config config = base_config();
    config.windows.push_back(window_config("a", "disk", 0, 10));
    config.windows.push_back(window_config("a/b", "disk", 0, 10));
    const ConfigError error = plan_error(std::move(config), "name");
    EXPECT_TRUE(contains(error.subject, "window \"a/b\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "\"a\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "directory")) << error.to_string();
    EXPECT_EQ(error.where, "test.toml:window a/b");
}

TEST_F(PlanTest, SiblingsInOneDirectoryAreFine) {
    Config config = base_config();
    config.windows.push_back(window_config("d/a", "disk", 0, 10));
    config.windows.push_back(window_config("d/b", "disk", 0, 10));
    config.windows.push_back(window_config("d/e/f", "disk", 0, 10));
    EXPECT_EQ(plan_ok(std::move(config)).windows.size(), 3u);
}

TEST_F(PlanTest, UnknownRegion) {
    Config config = base_config();
    config.windows.push_back(window_config("w", "disc"));
    const ConfigError error = plan_error(std::move(config), "region");
    EXPECT_TRUE(contains(error.subject, "window \"w\"")) << error.to_string();
    EXPECT_TRUE(contains(error.message, "no region named \"disc\"")) << error.to_string();
}

TEST_F(PlanTest, NoMountpoint) {
    Config config = base_config();
    config.mountpoint.reset();
    config.windows.push_back(window_config("w", "disk"));
    ConfigErrors errors;
    EXPECT_FALSE(make_plan(std::move(config), errors).has_value());
    ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
    EXPECT_TRUE(contains(errors.all()[0].message, "mount point")) << errors.to_string();
    EXPECT_EQ(read_file(image), content);
}

TEST_F(PlanTest, MissingMountpoint) {
    Config config = base_config();
    const std::string missing = (dir / "nowhere").string();
    config.mountpoint = missing;
    config.mountpoint_where = "argument '" + missing + "'";
    config.windows.push_back(window_config("w", "disk"));
    const ConfigError error = plan_error(std::move(config), "mountpoint");
    EXPECT_EQ(error.where, "argument '" + missing + "'");
    EXPECT_TRUE(contains(error.message, missing)) << error.to_string();
    EXPECT_TRUE(contains(error.message, "No such file")) << error.to_string();
    EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(PlanTest, MountpointIsAFile) {
    Config config = base_config();
    config.mountpoint = image;
    config.windows.push_back(window_config("w", "disk"));
    const ConfigError error = plan_error(std::move(config), "mountpoint");
    EXPECT_TRUE(contains(error.message, "not a directory")) << error.to_string();
}

TEST_F(PlanTest, EveryErrorIsReportedInOneRun) {
    Config config = base_config();
    config.mountpoint = image;
    config.regions.push_back(anon_region("scratch", 0));
    config.windows.push_back(window_config("a", "disk", image_size + 1));
    config.windows.push_back(window_config("a/b", "disk"));
    config.windows.push_back(window_config("c", "nope"));
    ConfigErrors errors;
    EXPECT_FALSE(make_plan(std::move(config), errors).has_value());
    // mount point, anon size, name clash, offset, unknown region.
    EXPECT_EQ(errors.all().size(), 5u) << errors.to_string();
    EXPECT_EQ(read_file(image), content);
}

TEST_F(PlanTest, FailedPlansLeaveTheBackingFileAlone) {
    const auto before = std::filesystem::last_write_time(image);
    for (int variant = 0; variant < 4; ++variant) {
        Config config = base_config();
        switch (variant) {
            case 0: config.windows.push_back(window_config("w", "disk", 0, image_size * 2, Access::write)); break;
            case 1: config.windows.push_back(window_config("w", "disk", image_size + 4096, std::nullopt, Access::write)); break;
            case 2: config.windows.push_back(window_config("w", "disk", 1, UINT64_MAX, Access::write)); break;
            case 3:
                config.mountpoint = (dir / "nowhere").string();
                config.windows.push_back(window_config("w", "disk", 0, std::nullopt, Access::write));
                break;
        }
        ConfigErrors errors;
        EXPECT_FALSE(make_plan(std::move(config), errors).has_value()) << variant;
        EXPECT_FALSE(errors.empty()) << variant;
        EXPECT_EQ(std::filesystem::file_size(image), image_size) << variant;
        EXPECT_EQ(read_file(image), content) << variant;
    }
    EXPECT_EQ(std::filesystem::last_write_time(image), before);
}

}  // namespace
