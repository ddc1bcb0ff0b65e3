// Registry: the mount's namespace built from mapped windows.
#include "namespace/registry.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "mapping/plan.hpp"
#include "namespace/namespace_changes.hpp"
#include "namespace/status.hpp"
#include "mapping/map_windows.hpp"
#include "mapping/window.hpp"
#include "config_builders.hpp"
#include "temp_dir.hpp"

namespace {

using mapfs::Access;
using mapfs::Config;
using mapfs::ConfigErrors;
using mapfs::InodeNumber;
using mapfs::InodeNumbering;
using mapfs::Ownership;
using mapfs::Registry;
using mapfs::RegionConfig;
using mapfs::root_inode;
using mapfs::Window;
using mapfs::WindowConfig;
using mapfs::testing::pattern_bytes;
using mapfs::testing::TempDir;

using Windows = std::vector<std::shared_ptr<Window>>;

class RegistryTest : public ::testing::Test {
protected:
    RegistryTest() {
        std::filesystem::create_directory(dir / "mnt");
        config.mountpoint = (dir / "mnt").string();
        add_file_region("disk", "disk.img", 64 * 1024);
        add_file_region("other", "other.img", 64 * 1024);
        RegionConfig anon;
        anon.name = "scratch";
        anon.where = "test";
        anon.anon = true;
        anon.size_bytes = 64 * 1024;
        config.regions.push_back(anon);
        ownership.uid = 4321;
        ownership.gid = 8765;
        ownership.time = {1700000000, 123};
    }

    void add_file_region(const std::string& name, const std::string& file, std::size_t size) {
        config.regions.push_back(mapfs::testing::file_region(name, dir.write_file(file, pattern_bytes(size, 3)).string()));
    }

    // Windows are `keep` unless changed: the registry indexes those by range.
    WindowConfig& add(const std::string& name, const std::string& region, std::uint64_t offset, std::uint64_t length,
                      Access access = Access::write) {
        config.windows.push_back(mapfs::testing::window_config(name, region, offset, length, access));
        config.windows.back().cache = mapfs::CacheMode::keep;
        return config.windows.back();
    }

    Windows map() {
        ConfigErrors errors;
        auto plan = mapfs::make_plan(config, errors);
        EXPECT_TRUE(errors.empty()) << errors.to_string();
        if (!plan) return {};
        auto windows = mapfs::map_windows(*plan);
        EXPECT_TRUE(windows.has_value());
        return windows ? std::move(*windows) : Windows{};
    }

    Registry build() {
        windows = map();
        return Registry(windows, ownership);
    }

    // Inode of a slash-separated path, walking lookups from the root.
    static InodeNumber path_inode(const Registry& registry, const std::string& path) {
        InodeNumber ino = root_inode;
        std::size_t start = 0;
        while (ino != 0 && start <= path.size()) {
            const std::size_t slash = std::min(path.find('/', start), path.size());
            ino = registry.lookup(ino, std::string_view(path).substr(start, slash - start));
            start = slash + 1;
        }
        return ino;
    }

    std::shared_ptr<Window> window_named(const std::string& name) const {
        for (const auto& window : windows)
            if (window->name() == name) return window;
        ADD_FAILURE() << "no window " << name;
        return nullptr;
    }

    // Names of the keep windows (other than the writer) that for_each_caching_window
    // reports for a write at region offset `offset`.
    std::vector<std::string> overlapping(const Registry& registry, const std::string& writer, std::uint64_t offset,
                                         std::uint64_t length) const {
        std::vector<std::string> names;
        const auto window = window_named(writer);
        if (!window) return names;
        registry.for_each_caching_window(window->region().identity(), offset, offset + length, [&](InodeNumber ino, const Window& other) {
            EXPECT_EQ(registry.find(ino)->window.get(), &other);
            if (&other != window.get()) names.push_back(other.name());
        });
        std::sort(names.begin(), names.end());
        return names;
    }

    TempDir dir;
    Config config;
    Ownership ownership;
    Windows windows;
};

TEST_F(RegistryTest, LookupDirectoryThenFile) {
    add("disk/p1", "disk", 0, 4096);
    add("disk/p2", "disk", 4096, 4096, Access::read);
    add("top", "disk", 0, 100, Access::read);
    const Registry registry = build();

    const InodeNumber disk = registry.lookup(root_inode, "disk");
    ASSERT_NE(disk, 0u);
    ASSERT_NE(registry.find(disk), nullptr);
    EXPECT_TRUE(registry.find(disk)->is_directory());
    EXPECT_EQ(registry.find(disk)->name, "disk");
    EXPECT_EQ(registry.find(disk)->parent, root_inode);

    const InodeNumber p1 = registry.lookup(disk, "p1");
    ASSERT_NE(p1, 0u);
    const mapfs::Node* node = registry.find(p1);
    ASSERT_NE(node, nullptr);
    EXPECT_FALSE(node->is_directory());
    EXPECT_EQ(node->name, "p1");
    EXPECT_EQ(node->parent, disk);
    EXPECT_EQ(node->window->name(), "disk/p1");
    EXPECT_EQ(registry.find(registry.lookup(disk, "p2"))->window->name(), "disk/p2");
    EXPECT_EQ(registry.find(registry.lookup(root_inode, "top"))->window->name(), "top");
}

TEST_F(RegistryTest, UnknownNamesAreZero) {
    add("disk/p1", "disk", 0, 4096);
    const Registry registry = build();
    const InodeNumber disk = registry.lookup(root_inode, "disk");
    const InodeNumber p1 = registry.lookup(disk, "p1");
    EXPECT_EQ(registry.lookup(root_inode, "nope"), 0u);
    EXPECT_EQ(registry.lookup(root_inode, "p1"), 0u);         // not at the top
    EXPECT_EQ(registry.lookup(root_inode, "disk/p1"), 0u);    // one component at a time
    EXPECT_EQ(registry.lookup(root_inode, ""), 0u);
    EXPECT_EQ(registry.lookup(disk, "p"), 0u);
    EXPECT_EQ(registry.lookup(disk, "p10"), 0u);
    EXPECT_EQ(registry.lookup(p1, "x"), 0u);                  // a file has no entries
    EXPECT_EQ(registry.lookup(999999, "p1"), 0u);             // no such directory
    EXPECT_EQ(registry.lookup(0, "disk"), 0u);
}

TEST_F(RegistryTest, RootAndUnknownInodes) {
    add("a", "disk", 0, 10);
    const Registry registry = build();
    ASSERT_NE(registry.find(root_inode), nullptr);
    EXPECT_TRUE(registry.find(root_inode)->is_directory());
    EXPECT_EQ(registry.find(0), nullptr);
    EXPECT_EQ(registry.find(registry.next_free_inode()), nullptr);
    EXPECT_EQ(registry.find(999999), nullptr);
    const struct stat missing = registry.attributes(999999);
    EXPECT_EQ(missing.st_ino, 0u);
    EXPECT_EQ(missing.st_mode, 0u);
}

TEST_F(RegistryTest, FileAttributes) {
    add("disk/p1", "disk", 12345, 10000, Access::write);
    add("ro", "disk", 0, 513, Access::read);
    WindowConfig& owned = add("owned", "disk", 0, 1, Access::copy);
    owned.mode = 0600;
    owned.uid = 1000;
    owned.gid = 1001;
    const Registry registry = build();

    const InodeNumber p1 = path_inode(registry, "disk/p1");
    const struct stat attr = registry.attributes(p1);
    EXPECT_EQ(attr.st_ino, p1);
    EXPECT_TRUE(S_ISREG(attr.st_mode));
    EXPECT_EQ(attr.st_mode & 07777, 0644u);
    EXPECT_EQ(attr.st_size, 10000);
    EXPECT_EQ(attr.st_blocks, (10000 + 511) / 512);
    EXPECT_EQ(attr.st_nlink, 1u);
    EXPECT_EQ(attr.st_uid, ::getuid());
    EXPECT_EQ(attr.st_gid, ::getgid());
    EXPECT_EQ(attr.st_mtim.tv_sec, ownership.time.tv_sec);
    EXPECT_EQ(attr.st_mtim.tv_nsec, ownership.time.tv_nsec);

    const struct stat ro = registry.attributes(path_inode(registry, "ro"));
    EXPECT_EQ(ro.st_mode, S_IFREG | 0444u);
    EXPECT_EQ(ro.st_size, 513);
    EXPECT_EQ(ro.st_blocks, 2);

    const struct stat explicit_owner = registry.attributes(path_inode(registry, "owned"));
    EXPECT_EQ(explicit_owner.st_mode, S_IFREG | 0600u);
    EXPECT_EQ(explicit_owner.st_uid, 1000u);
    EXPECT_EQ(explicit_owner.st_gid, 1001u);
    EXPECT_EQ(explicit_owner.st_size, 1);
}

TEST_F(RegistryTest, WindowAttributesOfAnyInode) {
    add("a", "disk", 0, 777, Access::read);
    const Registry registry = build();
    const struct stat attr = registry.window_attributes(*windows[0], 123456);
    EXPECT_EQ(attr.st_ino, 123456u);
    EXPECT_EQ(attr.st_size, 777);
    EXPECT_EQ(attr.st_mode, S_IFREG | 0444u);
}

TEST_F(RegistryTest, DirectoryAttributes) {
    add("disk/sub/p1", "disk", 0, 10);
    const Registry registry = build();
    for (const InodeNumber ino : {root_inode, path_inode(registry, "disk"), path_inode(registry, "disk/sub")}) {
        ASSERT_NE(ino, 0u);
        const struct stat attr = registry.attributes(ino);
        EXPECT_EQ(attr.st_ino, ino);
        EXPECT_TRUE(S_ISDIR(attr.st_mode)) << ino;
        EXPECT_EQ(attr.st_mode & 07777, 0755u);
        EXPECT_EQ(attr.st_uid, 4321u);
        EXPECT_EQ(attr.st_gid, 8765u);
        EXPECT_GE(attr.st_nlink, 2u);
        EXPECT_EQ(attr.st_ctim.tv_sec, ownership.time.tv_sec);
    }
}

TEST_F(RegistryTest, DirectoryModeFromOwnership) {
    add("d/f", "disk", 0, 10);
    ownership.directory_mode = 0500;
    const Registry registry = build();
    EXPECT_EQ(registry.attributes(path_inode(registry, "d")).st_mode, S_IFDIR | 0500u);
}

TEST_F(RegistryTest, ChildrenAreSortedByName) {
    for (const char* name : {"zeta", "alpha", "mid", "d/z", "d/a", "d/m", "Upper", "beta"}) add(name, "disk", 0, 10);
    const Registry registry = build();
    std::vector<std::string> top;
    for (const InodeNumber child : registry.find(root_inode)->children) top.push_back(registry.find(child)->name);
    EXPECT_EQ(top, (std::vector<std::string>{"Upper", "alpha", "beta", "d", "mid", "zeta"}));
    std::vector<std::string> in_d;
    for (const InodeNumber child : registry.find(path_inode(registry, "d"))->children)
        in_d.push_back(registry.find(child)->name);
    EXPECT_EQ(in_d, (std::vector<std::string>{"a", "m", "z"}));
    // Lookups find every one of them.
    for (const char* name : {"zeta", "alpha", "mid", "d/z", "d/a", "d/m", "Upper", "beta"})
        EXPECT_EQ(registry.find(path_inode(registry, name))->window->name(), name);
}

TEST_F(RegistryTest, InodeNumbersAreUniqueAndCounted) {
    for (int i = 0; i < 200; ++i) add("dir" + std::to_string(i % 7) + "/sub" + std::to_string(i % 3) + "/w" + std::to_string(i), "disk",
                                      static_cast<std::uint64_t>(i) * 10, 10);
    add("flat", "disk", 0, 10);
    const Registry registry = build();
    EXPECT_EQ(registry.window_count(), 201u);
    EXPECT_EQ(registry.window_inodes().size(), 201u);
    EXPECT_EQ(registry.directory_count(), 1u + 7u + 7u * 3u);  // root, dirN, dirN/subM
    EXPECT_EQ(registry.total_window_bytes(), 201u * 10u);

    // Walk the tree: every node once, every inode distinct and findable.
    std::set<InodeNumber> seen;
    std::function<void(InodeNumber)> walk = [&](InodeNumber ino) {
        EXPECT_TRUE(seen.insert(ino).second) << "inode " << ino << " twice";
        const mapfs::Node* node = registry.find(ino);
        ASSERT_NE(node, nullptr);
        for (const InodeNumber child : node->children) {
            EXPECT_EQ(registry.find(child)->parent, ino);
            walk(child);
        }
    };
    walk(root_inode);
    EXPECT_EQ(seen.size(), 201u + registry.directory_count());
    for (const InodeNumber ino : seen) {
        if (ino == root_inode) continue;
        EXPECT_GE(ino, mapfs::first_window_inode);
        EXPECT_LT(ino, registry.next_free_inode());
    }
    for (const InodeNumber ino : registry.window_inodes()) EXPECT_TRUE(seen.count(ino)) << ino;
}

TEST_F(RegistryTest, AReloadKeepsTheNumbersOfWhatDidNotChange) {
    add("d/a", "disk", 0, 10);
    add("d/b", "disk", 10, 10);
    add("e/c", "disk", 20, 10);
    const Registry old = build();
    const auto kept = window_named("d/a");
    const InodeNumber a = path_inode(old, "d/a");
    const InodeNumber d = path_inode(old, "d");
    const InodeNumber b = path_inode(old, "d/b");
    // The reload keeps d/a (the same Window object), replaces d/b, drops e/c and adds f/x.
    config.windows.clear();
    add("d/a", "disk", 0, 10);
    add("d/b", "disk", 10, 11);
    add("f/x", "disk", 30, 10);
    Windows fresh = map();
    fresh[0] = kept;
    const InodeNumbering before = old.numbering();
    const Registry current(fresh, ownership, &before);
    EXPECT_EQ(path_inode(current, "d/a"), a);
    EXPECT_EQ(path_inode(current, "d"), d);
    EXPECT_NE(path_inode(current, "d/b"), b);
    EXPECT_EQ(path_inode(current, "e/c"), 0u);
    // New numbers were never used before, so the kernel cannot mix them up.
    for (const char* name : {"d/b", "f", "f/x"}) EXPECT_GE(path_inode(current, name), old.next_free_inode()) << name;
    EXPECT_GE(current.next_free_inode(), old.next_free_inode() + 3);
    EXPECT_EQ(current.find(a)->window, kept);
    EXPECT_EQ(current.path_of(a), "d/a");
    EXPECT_EQ(current.find(b), nullptr);
    // Numbers are no longer dense; lookups by number still work.
    for (const InodeNumber ino : current.window_inodes()) EXPECT_EQ(current.find(ino)->window->name(), current.path_of(ino));
}

// One routine tells the kernel what changed, by the one window identity:
// a window that shows the same bytes keeps its number whatever its mode
// (its attributes are fetched again); one that shows other bytes is another
// window, whose old name and the listing it was in are dropped.
TEST_F(RegistryTest, TheChangesOfAReloadAreWhatTheKernelMustDrop) {
    add("d/a", "disk", 0, 10);
    add("d/b", "disk", 10, 10);
    add("e/c", "disk", 20, 10);
    add("m", "disk", 40, 10).mode = 0666;
    add("k", "disk", 50, 10);
    const Registry old = build();
    const InodeNumbering before = old.numbering();
    config.windows.clear();
    add("d/a", "disk", 0, 10);
    add("d/b", "disk", 10, 11);                               // longer: another window
    add("m", "disk", 40, 10).mode = 0600;                     // the same window, a tighter mode
    add("k", "disk", 50, 10).cache = mapfs::CacheMode::none;  // the same window, another cache mode
    const Windows fresh = map();
    const Registry current(fresh, ownership, &before);
    EXPECT_EQ(path_inode(current, "m"), path_inode(old, "m"));
    EXPECT_EQ(path_inode(current, "k"), path_inode(old, "k"));
    EXPECT_NE(path_inode(current, "d/b"), path_inode(old, "d/b"));
    const auto changes = mapfs::namespace_changes(before, current, mapfs::ChangeCause::reload);
    std::set<std::pair<InodeNumber, std::string>> names;
    for (const auto& name : changes.names) names.emplace(name.parent, name.name);
    // e/c went with e: dropping "e" drops what was below it.
    EXPECT_EQ(names, (std::set<std::pair<InodeNumber, std::string>>{{path_inode(old, "d"), "b"}, {root_inode, "e"}}));
    EXPECT_EQ(std::set<InodeNumber>(changes.listings.begin(), changes.listings.end()),
              (std::set<InodeNumber>{root_inode, path_inode(old, "d")}));
    EXPECT_EQ(changes.attributes, std::vector<InodeNumber>{path_inode(old, "m")});
    EXPECT_EQ(changes.pages, std::vector<InodeNumber>{path_inode(old, "k")});
}

// After a takeover a copy window's private pages start afresh: what the
// kernel cached of the old ones goes. A new owner reaches the directories
// and the status file too.
TEST_F(RegistryTest, ATakeoverDropsCopyWindowsPagesAndANewOwnersAttributes) {
    add("d/c", "disk", 0, 10, Access::copy);
    add("w", "disk", 0, 10);
    const Registry old = build();
    const InodeNumbering before = old.numbering();
    ownership.uid = 1234;
    const Windows fresh = map();
    const Registry current(fresh, ownership, &before);
    const auto changes = mapfs::namespace_changes(before, current, mapfs::ChangeCause::takeover);
    EXPECT_TRUE(changes.names.empty());
    EXPECT_TRUE(changes.listings.empty());
    EXPECT_EQ(changes.pages, std::vector<InodeNumber>{path_inode(old, "d/c")});
    const std::set<InodeNumber> attributes(changes.attributes.begin(), changes.attributes.end());
    for (const InodeNumber ino : {root_inode, mapfs::status_directory_inode, mapfs::status_file_inode, path_inode(old, "d")})
        EXPECT_EQ(attributes.count(ino), 1u) << ino;
}

TEST_F(RegistryTest, RegionCount) {
    add("a", "disk", 0, 10);
    add("b", "disk", 0, 10);
    add("c", "other", 0, 10);
    add("s", "scratch", 0, 10);
    EXPECT_EQ(build().region_count(), 3u);
}

TEST_F(RegistryTest, OverlappingWindowsOfTheSameRegion) {
    add("writer", "disk", 4096, 4096, Access::write);                // [4096, 8192)
    add("same-range", "disk", 4096, 4096, Access::read);             // [4096, 8192)
    add("covers-all", "disk", 0, 65536, Access::read);               // [0, 65536)
    add("ends-inside", "disk", 1000, 3597, Access::write);           // [1000, 4597)
    add("starts-inside", "disk", 8000, 1000, Access::copy);          // [8000, 9000)
    add("touches-before", "disk", 0, 4096, Access::write);           // [0, 4096)
    add("touches-after", "disk", 8192, 100, Access::read);           // [8192, 8292)
    add("far", "disk", 30000, 100, Access::read);
    add("empty", "disk", 5000, 0, Access::read);
    add("other-file", "other", 4096, 4096, Access::write);           // same offsets, other region
    add("anon", "scratch", 4096, 4096, Access::write);               // same offsets, anonymous region
    const Registry registry = build();

    // The writer's whole range.
    EXPECT_EQ(overlapping(registry, "writer", 4096, 4096),
              (std::vector<std::string>{"covers-all", "ends-inside", "same-range", "starts-inside"}));
    // A write into part of it (region offsets, not window offsets).
    EXPECT_EQ(overlapping(registry, "writer", 4096, 1), (std::vector<std::string>{"covers-all", "ends-inside", "same-range"}));
    EXPECT_EQ(overlapping(registry, "writer", 8191, 1),
              (std::vector<std::string>{"covers-all", "same-range", "starts-inside"}));
    EXPECT_EQ(overlapping(registry, "writer", 6000, 100), (std::vector<std::string>{"covers-all", "same-range"}));
    // The other way round: the writer is reported to others.
    EXPECT_EQ(overlapping(registry, "touches-before", 4000, 200),
              (std::vector<std::string>{"covers-all", "ends-inside", "same-range", "writer"}));
    EXPECT_EQ(overlapping(registry, "covers-all", 30050, 10), std::vector<std::string>{"far"});
    EXPECT_TRUE(overlapping(registry, "covers-all", 40000, 100).empty());
}

TEST_F(RegistryTest, OtherRegionsAreNeverReported) {
    add("disk-w", "disk", 0, 8192, Access::write);
    add("other-w", "other", 0, 8192, Access::write);
    add("other-r", "other", 0, 8192, Access::read);
    add("anon-w", "scratch", 0, 8192, Access::write);
    add("anon-r", "scratch", 4096, 100, Access::read);
    const Registry registry = build();
    EXPECT_TRUE(overlapping(registry, "disk-w", 0, 8192).empty());
    EXPECT_EQ(overlapping(registry, "other-w", 0, 8192), std::vector<std::string>{"other-r"});
    EXPECT_EQ(overlapping(registry, "anon-w", 0, 8192), std::vector<std::string>{"anon-r"});
    EXPECT_TRUE(overlapping(registry, "anon-w", 0, 4096).empty());
}

TEST_F(RegistryTest, SharedBackingFileIsOneRegionForOverlaps) {
    // Two region names, one file: writes through one concern windows of the other.
    RegionConfig alias;
    alias.name = "alias";
    alias.where = "test";
    alias.file = *config.regions[0].file;
    config.regions.push_back(alias);
    add("via-disk", "disk", 0, 4096, Access::write);
    add("via-alias", "alias", 2048, 4096, Access::read);
    const Registry registry = build();
    EXPECT_EQ(&window_named("via-disk")->region(), &window_named("via-alias")->region());
    EXPECT_EQ(overlapping(registry, "via-disk", 3000, 10), std::vector<std::string>{"via-alias"});
    EXPECT_EQ(registry.region_count(), 1u);
}

TEST_F(RegistryTest, ManyWindowsOverlapQueriesMatchBruteForce) {
    for (int i = 0; i < 2000; ++i)
        add("w" + std::to_string(i), "disk", static_cast<std::uint64_t>(i * 37) % 60000, 1 + (i * 101) % 4000,
            i % 3 == 0 ? Access::read : Access::write);
    const Registry registry = build();
    const auto writer = window_named("w5");
    ASSERT_TRUE(writer);
    for (std::uint64_t start = 0; start < 64000; start += 3217) {
        std::vector<std::string> expected;
        for (const auto& window : windows) {
            if (window.get() == writer.get()) continue;
            const std::uint64_t begin = window->offset_bytes();
            const std::uint64_t end = begin + window->length_bytes();
            if (begin < start + 500 && end > start) expected.push_back(window->name());
        }
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(overlapping(registry, "w5", start, 500), expected) << start;
    }
}

}  // namespace
