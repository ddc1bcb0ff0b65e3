// 100,000 windows over one region: listed, read, and served from one mapping.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "mount_fixture.hpp"

namespace mapfs::testing {
namespace {

constexpr int window_count = 100000;
constexpr std::uint64_t region_bytes = 16 << 20;

std::uint64_t offset_of(int i) { return (static_cast<std::uint64_t>(i) * 1237) % (region_bytes - 8192); }
std::uint64_t length_of(int i) { return 1 + static_cast<std::uint64_t>(i) % 8000; }

TEST_F(MountTest, HundredThousandWindowsOverOneRegion) {
    const auto disk = backing("disk.img", pattern_bytes(region_bytes, 31));
    std::string toml = "[[region]]\nname = \"d\"\nfile = \"" + disk.string() + "\"\n";
    toml.reserve(window_count * 80);
    for (int i = 0; i < window_count; ++i) {
        toml += "[[window]]\nname = \"w" + std::to_string(i) + "\"\nregion = \"d\"\noffset = " + std::to_string(offset_of(i)) +
                "\nlength = " + std::to_string(length_of(i)) + "\naccess = \"" + (i % 2 == 0 ? "write" : "read") + "\"\n";
    }
    ASSERT_NO_FATAL_FAILURE(mount_config(toml));

    EXPECT_EQ(ok("ls " + quote(mnt.string()) + " | wc -l"), std::to_string(window_count) + "\n");
    EXPECT_EQ(ok("ls -l " + quote(mnt.string()) + " | grep -c '^-'"), std::to_string(window_count) + "\n");

    std::mt19937 random(7);
    for (int probe = 0; probe < 40; ++probe) {
        const int i = static_cast<int>(random() % window_count);
        EXPECT_EQ(ok("sha256sum < " + quote(at("w" + std::to_string(i)).string()) + " | cut -d' ' -f1"),
                  sha256_of_range(disk, offset_of(i), length_of(i)))
            << "window w" << i;
        EXPECT_EQ(std::filesystem::file_size(at("w" + std::to_string(i))), length_of(i));
    }

    // Two shared views (read, write) serve all of them: the map count stays small.
    std::ifstream maps("/proc/" + std::to_string(daemon->server_pid()) + "/maps");
    int disk_mappings = 0;
    for (std::string line; std::getline(maps, line);)
        if (line.find(disk.string()) != std::string::npos) ++disk_mappings;
    EXPECT_EQ(disk_mappings, 2) << "one read view and one write view";
}

}  // namespace
}  // namespace mapfs::testing
