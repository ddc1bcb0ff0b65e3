// map_windows: regions map their files once per access (one MAP_SHARED
// PROT_READ view for read windows, one PROT_READ|PROT_WRITE view for write
// windows), copy windows get private mappings, and the bytes are the file's.
#include "mapping/region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "mapping/plan.hpp"
#include "mapping/map_windows.hpp"
#include "mapping/window.hpp"
#include "config_builders.hpp"
#include "temp_dir.hpp"

namespace {

using mapfs::Access;
using mapfs::Config;
using mapfs::ConfigErrors;
using mapfs::Mapping;
using mapfs::Plan;
using mapfs::RegionConfig;
using mapfs::Window;
using mapfs::WindowConfig;
using mapfs::testing::pattern_bytes;
using mapfs::testing::read_file;
using mapfs::testing::TempDir;

using Windows = std::vector<std::shared_ptr<Window>>;

bool inside(const std::byte* address, std::size_t length, const Mapping& mapping) {
    if (!mapping.mapped()) return false;
    const std::byte* begin = mapping.bytes().data();
    const std::byte* end = begin + mapping.length_bytes();
    return address >= begin && address + length <= end;
}

bool overlaps(const std::byte* address, std::size_t length, const Mapping& mapping) {
    if (!mapping.mapped()) return false;
    const std::byte* begin = mapping.bytes().data();
    const std::byte* end = begin + mapping.length_bytes();
    return address < end && address + length > begin;
}

std::string text_of(const Window& window) {
    return std::string(reinterpret_cast<const char*>(window.bytes().data()), window.bytes().size());
}

void store(const Window& window, std::size_t offset, const std::string& bytes) {
    std::memcpy(window.bytes().data() + offset, bytes.data(), bytes.size());
}

std::size_t mapping_count() {
    std::ifstream maps("/proc/self/maps");
    std::size_t lines = 0;
    for (std::string line; std::getline(maps, line);) ++lines;
    return lines;
}

class RegionTest : public ::testing::Test {
protected:
    static constexpr std::size_t image_size = 256 * 1024;

    RegionTest() : content(pattern_bytes(image_size, 7)) {
        image = dir.write_file("disk.img", content);
        std::filesystem::create_directory(dir / "mnt");
        config.mountpoint = (dir / "mnt").string();
        config.regions.push_back(mapfs::testing::file_region("disk", image.string()));
    }

    void add(const std::string& name, std::uint64_t offset, std::optional<std::uint64_t> length, Access access,
             const std::string& region = "disk") {
        config.windows.push_back(mapfs::testing::window_config(name, region, offset, length, access));
    }

    void add_anon(const std::string& name, std::uint64_t size) {
        config.regions.push_back(mapfs::testing::anon_region(name, size));
    }

    Windows map() {
        ConfigErrors errors;
        auto plan = mapfs::make_plan(config, errors);
        EXPECT_TRUE(errors.empty()) << errors.to_string();
        if (!plan) return {};
        auto windows = mapfs::map_windows(*plan);
        EXPECT_TRUE(windows.has_value()) << (windows ? std::string() : windows.error().to_string());
        return windows ? std::move(*windows) : Windows{};
    }

    std::string file_range(std::size_t offset, std::size_t length) const { return content.substr(offset, length); }

    TempDir dir;
    std::string content;
    std::filesystem::path image;
    Config config;
};

TEST_F(RegionTest, WindowsDescribeTheirPlan) {
    add("disk/p1", 4096, 8192, Access::write);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 1u);
    const Window& window = *windows[0];
    EXPECT_EQ(window.name(), "disk/p1");
    EXPECT_EQ(window.offset_bytes(), 4096u);
    EXPECT_EQ(window.length_bytes(), 8192u);
    EXPECT_EQ(window.bytes().size(), 8192u);
    EXPECT_EQ(window.access(), Access::write);
    EXPECT_EQ(window.mode(), 0644u);
    EXPECT_TRUE(window.shares_region_mapping());
    EXPECT_EQ(window.region().name(), "disk");
    EXPECT_EQ(window.region().path(), std::filesystem::canonical(image).string());
    EXPECT_EQ(window.region().size_bytes(), image_size);
    EXPECT_FALSE(window.region().anon());
}

TEST_F(RegionTest, ReadWindowsShareOneSharedReadOnlyView) {
    add("a", 0, 4096, Access::read);
    add("b", 4096, 8192, Access::read);
    add("c", 100000, 5000, Access::read);
    add("a-again", 0, 4096, Access::read);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 4u);
    const mapfs::Region& region = windows[0]->region();
    const Mapping& view = region.view(Access::read);
    ASSERT_TRUE(view.mapped());
    EXPECT_EQ(view.prot(), PROT_READ);
    EXPECT_NE(view.flags() & MAP_SHARED, 0);
    EXPECT_EQ(view.flags() & MAP_PRIVATE, 0);
    for (const auto& window : windows) {
        EXPECT_EQ(&window->region(), &region) << window->name();
        EXPECT_TRUE(inside(window->bytes().data(), window->bytes().size(), view)) << window->name();
        // Each window's address is its offset inside the one view.
        EXPECT_EQ(window->bytes().data() - view.bytes().data(),
                  static_cast<std::ptrdiff_t>(window->offset_bytes() - view.file_offset()));
    }
    EXPECT_EQ(windows[0]->bytes().data(), windows[3]->bytes().data());
    // No write view when no window writes.
    EXPECT_FALSE(region.view(Access::write).mapped());
}

TEST_F(RegionTest, WriteWindowsShareOneSharedWritableView) {
    add("a", 0, 4096, Access::write);
    add("b", 2048, 8192, Access::write);
    add("b-again", 2048, 8192, Access::write);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 3u);
    const Mapping& view = windows[0]->region().view(Access::write);
    ASSERT_TRUE(view.mapped());
    EXPECT_EQ(view.prot(), PROT_READ | PROT_WRITE);
    EXPECT_NE(view.flags() & MAP_SHARED, 0);
    for (const auto& window : windows)
        EXPECT_TRUE(inside(window->bytes().data(), window->bytes().size(), view)) << window->name();
    EXPECT_EQ(windows[1]->bytes().data(), windows[2]->bytes().data());
    EXPECT_EQ(windows[1]->bytes().data(), windows[0]->bytes().data() + 2048);
    EXPECT_FALSE(windows[0]->region().view(Access::read).mapped());
}

TEST_F(RegionTest, ViewsCoverOnlyThePagesTheirWindowsNeed) {
    add("r", 20000, 10000, Access::read);
    add("w", 100000, 1, Access::write);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 2u);
    const std::uint64_t page = mapfs::page_size();
    const Mapping& read_view = windows[0]->region().view(Access::read);
    EXPECT_EQ(read_view.file_offset(), 20000 / page * page);
    EXPECT_EQ(read_view.file_offset() + read_view.length_bytes(), (30000 + page - 1) / page * page);
    const Mapping& write_view = windows[0]->region().view(Access::write);
    EXPECT_EQ(write_view.file_offset(), 100000 / page * page);
    EXPECT_EQ(write_view.length_bytes(), page);
}

TEST_F(RegionTest, WindowBytesAreTheFileBytesAtUnalignedOffsets) {
    add("r", 12345, 54321, Access::read);
    add("w", 12345, 54321, Access::write);
    add("c", 12345, 54321, Access::copy);
    add("tail", image_size - 7, std::nullopt, Access::read);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 4u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(text_of(*windows[i]), file_range(12345, 54321)) << windows[i]->name();
    EXPECT_EQ(text_of(*windows[3]), file_range(image_size - 7, 7));
}

TEST_F(RegionTest, ReadAndWriteViewsAreCoherent) {
    add("r", 0, std::nullopt, Access::read);
    add("w", 5000, 100, Access::write);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 2u);
    EXPECT_NE(windows[0]->bytes().data() + 5000, windows[1]->bytes().data());  // different views
    store(*windows[1], 10, "coherent");
    EXPECT_EQ(text_of(*windows[0]).substr(5010, 8), "coherent");
}

TEST_F(RegionTest, WriteWindowReachesTheBackingFileAfterSync) {
    add("w", 12345, 1000, Access::write);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 1u);
    const std::string stored = pattern_bytes(1000, 99);
    store(*windows[0], 0, stored);
    EXPECT_EQ(windows[0]->sync(), 0);
    std::string expected = content;
    expected.replace(12345, 1000, stored);
    EXPECT_EQ(read_file(image), expected);
    EXPECT_EQ(std::filesystem::file_size(image), image_size);
}

TEST_F(RegionTest, CopyWindowHasAPrivateMapping) {
    add("w", 0, std::nullopt, Access::write);
    add("r", 0, std::nullopt, Access::read);
    add("c", 12345, 10000, Access::copy);
    add("c2", 12345, 10000, Access::copy);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 4u);
    const Window& copy = *windows[2];
    EXPECT_FALSE(copy.shares_region_mapping());
    EXPECT_EQ(copy.mode(), 0644u);
    const mapfs::Region& region = copy.region();
    EXPECT_FALSE(overlaps(copy.bytes().data(), copy.bytes().size(), region.view(Access::write)));
    EXPECT_FALSE(overlaps(copy.bytes().data(), copy.bytes().size(), region.view(Access::read)));
    // Two copy windows of the same range are two private mappings.
    EXPECT_NE(windows[2]->bytes().data(), windows[3]->bytes().data());

    const std::string stored(500, 'C');
    store(copy, 100, stored);
    EXPECT_EQ(text_of(copy).substr(100, 500), stored);
    EXPECT_EQ(copy.sync(), 0);
    // Neither the file, the shared windows nor the other copy see it.
    EXPECT_EQ(read_file(image), content);
    EXPECT_EQ(text_of(*windows[0]), content);
    EXPECT_EQ(text_of(*windows[1]), content);
    EXPECT_EQ(text_of(*windows[3]), file_range(12345, 10000));
}

TEST_F(RegionTest, CopyWindowSeesEarlierSharedWritesToUntouchedPages) {
    add("w", 0, std::nullopt, Access::write);
    add("c", 0, std::nullopt, Access::copy);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 2u);
    // A page the copy window never wrote still shows the file.
    store(*windows[0], 8192, "shared");
    EXPECT_EQ(text_of(*windows[1]).substr(8192, 6), "shared");
}

TEST_F(RegionTest, OnlyReadWindowsMapReadOnly) {
    add("a", 0, std::nullopt, Access::read);
    add("b", 100, 100, Access::read);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 2u);
    EXPECT_EQ(windows[0]->region().view(Access::read).prot(), PROT_READ);
    EXPECT_FALSE(windows[0]->region().view(Access::write).mapped());
    EXPECT_EQ(windows[0]->sync(), 0);  // nothing to write back
}

TEST_F(RegionTest, AnonymousRegionWindowsShareBytes) {
    add_anon("scratch", 1 << 20);
    add("all", 0, std::nullopt, Access::write, "scratch");
    add("second-half", 1 << 19, std::nullopt, Access::write, "scratch");
    add("reader", 1 << 19, 4096, Access::read, "scratch");
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 3u);
    const mapfs::Region& region = windows[0]->region();
    EXPECT_TRUE(region.anon());
    EXPECT_TRUE(region.path().empty());
    EXPECT_EQ(region.size_bytes(), 1u << 20);
    EXPECT_EQ(&windows[1]->region(), &region);
    EXPECT_EQ(windows[1]->bytes().data(), windows[0]->bytes().data() + (1 << 19));
    // Fresh anonymous memory reads as zeros.
    EXPECT_EQ(text_of(*windows[0]), std::string(1 << 20, '\0'));
    store(*windows[1], 0, "anonymous");
    EXPECT_EQ(text_of(*windows[0]).substr(1 << 19, 9), "anonymous");
    EXPECT_EQ(text_of(*windows[2]).substr(0, 9), "anonymous");
    EXPECT_EQ(windows[0]->sync(), 0);
    // The file region is untouched.
    EXPECT_EQ(read_file(image), content);
}

TEST_F(RegionTest, AnonymousCopyWindowSeesTheContentsAndKeepsItsWrites) {
    add_anon("scratch", 64 * 1024);
    add("w", 0, std::nullopt, Access::write, "scratch");
    add("c", 0, std::nullopt, Access::copy, "scratch");
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 2u);
    store(*windows[0], 0, "before");
    EXPECT_EQ(text_of(*windows[1]).substr(0, 6), "before");
    store(*windows[1], 0, "copied");
    EXPECT_EQ(text_of(*windows[0]).substr(0, 6), "before");
}

// FUSE passthrough: the kernel knows no offset and no size, and lets a
// write grow the file, so only a window that is a whole file (read) or a
// whole anonymous region fits; a file that grew no longer does.
TEST_F(RegionTest, OnlyAWholeFileReadWindowOrAWholeAnonymousRegionFitsPassthrough) {
    using Fit = Window::PassthroughFit;
    add("whole", 0, std::nullopt, Access::read);
    add("offset", 4096, 4096, Access::read);
    add("short", 0, 4096, Access::read);
    add("copy", 0, std::nullopt, Access::copy);
    add("write", 0, std::nullopt, Access::write);
    add_anon("alone", 1 << 20);
    add("alone", 0, std::nullopt, Access::write, "alone");
    add_anon("part", 1 << 20);
    add("part", 0, 4096, Access::write, "part");
    add_anon("two", 1 << 20);
    add("two-write", 0, std::nullopt, Access::write, "two");
    add("two-read", 0, std::nullopt, Access::read, "two");
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 9u);
    const std::vector<Fit> expected{Fit::fits, Fit::offset, Fit::not_whole_file, Fit::copy_access, Fit::writable_file,
                                    Fit::fits, Fit::not_whole_region, Fit::region_shared, Fit::fits};
    for (std::size_t i = 0; i < windows.size(); ++i)
        EXPECT_EQ(windows[i]->passthrough_fit(), expected[i]) << windows[i]->name();
    std::ofstream(image, std::ios::app) << "grown";
    EXPECT_EQ(windows[0]->passthrough_fit(), Fit::not_whole_file);
}

// A passed-through region is sealed against resizing for good; a memfd an
// earlier mapfs made without MFD_ALLOW_SEALING cannot be.
TEST_F(RegionTest, ASealedRegionKeepsItsSizeAndAnUnsealableOneDoesNotFit) {
    add_anon("m", 1 << 20);
    add("m", 0, std::nullopt, Access::write, "m");
    Windows windows = map();
    ASSERT_EQ(windows.size(), 1u);
    Window& window = *windows[0];
    EXPECT_TRUE(window.region().sealable());
    EXPECT_EQ(window.resize(2 << 20), 0);
    EXPECT_EQ(window.region().seal_size(), 0);
    EXPECT_EQ(window.region().seal_size(), 0) << "sealing twice is a no-op";
    EXPECT_TRUE(window.region().size_sealed());
    EXPECT_EQ(window.resize(1 << 20), EBUSY);
    EXPECT_EQ(window.length_bytes(), 2u << 20);
    EXPECT_EQ(window.passthrough_fit(), Window::PassthroughFit::fits);

    // The memory a reload (or a takeover) keeps is the memfd it had.
    const int unsealable = ::memfd_create("mapfs:old", MFD_CLOEXEC);
    ASSERT_GE(unsealable, 0);
    ASSERT_EQ(::ftruncate(unsealable, 1 << 20), 0);
    const mapfs::KeptMemory kept{"old", unsealable, 1 << 20};
    config.regions = {mapfs::testing::anon_region("old", 1 << 20)};
    config.windows = {mapfs::testing::window_config("old", "old")};
    ConfigErrors errors;
    auto plan = mapfs::make_plan(config, errors, mapfs::Replanning{{&kept, 1}, ""});
    ASSERT_TRUE(plan) << errors.to_string();
    auto kept_windows = mapfs::map_windows(*plan);
    ASSERT_TRUE(kept_windows.has_value());
    const Window& old = *(*kept_windows)[0];
    EXPECT_FALSE(old.region().sealable());
    EXPECT_EQ(old.passthrough_fit(), Window::PassthroughFit::not_sealable);
    EXPECT_EQ(old.region().seal_size(), EPERM);
    ::close(unsealable);
}

// SEEK_DATA and SEEK_HOLE answer in whole 4 KiB blocks of the window (a
// block with any data byte is data), here against that definition worked
// out from the backing file's own extents, at every 512th position.
TEST_F(RegionTest, SeekAnswersInWholeBlocksOfTheWindow) {
    const auto sparse = dir / "sparse.img";
    {
        const int fd = ::open(sparse.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 1 << 20), 0);
        for (const auto& [offset, length] : {std::pair{200000, 100}, std::pair{508199, 1}, std::pair{700000, 8192}})
            ASSERT_EQ(::pwrite(fd, std::string(length, 'x').data(), length, offset), length);
        ::close(fd);
    }
    config.regions.push_back(mapfs::testing::file_region("sparse", sparse.string()));
    constexpr std::uint64_t offset = 4097;
    constexpr std::uint64_t length = 900000;
    add("w", offset, length, Access::read, "sparse");
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 1u);
    const Window& window = *windows[0];
    // Which bytes of the file are data, by its own answers.
    std::vector<bool> data(1 << 20, false);
    const int fd = ::open(sparse.c_str(), O_RDONLY);
    for (off_t at = 0;;) {
        const off_t start = ::lseek(fd, at, SEEK_DATA);
        if (start < 0) break;
        const off_t end = ::lseek(fd, start, SEEK_HOLE);
        for (off_t byte = start; byte < end; ++byte) data[static_cast<std::size_t>(byte)] = true;
        at = end;
    }
    ::close(fd);
    const std::uint64_t block = Window::seek_block_bytes;
    const auto block_has_data = [&](std::uint64_t b) {
        for (std::uint64_t byte = b * block; byte < std::min(length, (b + 1) * block); ++byte)
            if (data[offset + byte]) return true;
        return false;
    };
    for (std::uint64_t position = 0; position < length; position += 512) {
        std::uint64_t b = position / block;
        while (b * block < length && !block_has_data(b)) ++b;
        const auto found_data = window.seek(position, SEEK_DATA);
        if (b * block >= length) EXPECT_FALSE(found_data.has_value()) << position;
        else EXPECT_EQ(found_data ? *found_data : 0, std::max(position, b * block)) << position;
        b = position / block;
        while (b * block < length && block_has_data(b)) ++b;
        const auto found_hole = window.seek(position, SEEK_HOLE);
        EXPECT_EQ(found_hole ? *found_hole : 0, std::min(length, std::max(position, b * block))) << position;
    }
}

TEST_F(RegionTest, ZeroLengthWindowHasNoBytes) {
    add("empty", image_size, std::nullopt, Access::write);
    add("other", 0, 10, Access::read);
    const Windows windows = map();
    ASSERT_EQ(windows.size(), 2u);
    EXPECT_EQ(windows[0]->length_bytes(), 0u);
    EXPECT_TRUE(windows[0]->bytes().empty());
    EXPECT_EQ(windows[0]->sync(), 0);
    // A zero-length write window maps nothing.
    EXPECT_FALSE(windows[0]->region().view(Access::write).mapped());
}

TEST_F(RegionTest, TenThousandWindowsDoNotMakeTenThousandMappings) {
    for (int i = 0; i < 10000; ++i) {
        const std::uint64_t offset = (static_cast<std::uint64_t>(i) * 4099) % (image_size - 64);
        add("w" + std::to_string(i), offset, 64, i % 2 == 0 ? Access::read : Access::write);
    }
    ConfigErrors errors;
    auto plan = mapfs::make_plan(config, errors);
    ASSERT_TRUE(plan.has_value()) << errors.to_string();
    const std::size_t before = mapping_count();
    auto windows = mapfs::map_windows(*plan);
    ASSERT_TRUE(windows.has_value());
    const std::size_t after = mapping_count();
    ASSERT_EQ(windows->size(), 10000u);
    EXPECT_LT(after, before + 10) << "before " << before << ", after " << after;
    // And they all serve the right bytes.
    for (const auto& window : *windows) {
        ASSERT_EQ(text_of(*window), file_range(window->offset_bytes(), 64)) << window->name();
    }
}

TEST_F(RegionTest, MappingsAreReleasedWithTheWindows) {
    // Same file offset for all, so the kernel cannot merge neighbouring mappings.
    for (int i = 0; i < 50; ++i) add("c" + std::to_string(i), 0, 4096, Access::copy);
    add("w", 0, std::nullopt, Access::write);
    ConfigErrors errors;
    auto plan = mapfs::make_plan(config, errors);
    ASSERT_TRUE(plan.has_value()) << errors.to_string();
    const std::size_t before = mapping_count();
    {
        auto windows = mapfs::map_windows(*plan);
        ASSERT_TRUE(windows.has_value());
        EXPECT_GE(mapping_count(), before + 50);  // one private mapping per copy window
    }
    EXPECT_LT(mapping_count(), before + 5);
}

}  // namespace
