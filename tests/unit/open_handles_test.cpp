// The open side of the namespace: OpenHandle (owns its window, in the index
// for its whole life), OpenIndex (open windows by file range and inode),
// HandleTable (file handle numbers) and WritebackErrors.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "mapping/plan.hpp"
#include "config_builders.hpp"
#include "mapping/map_windows.hpp"
#include "mapping/writeback_errors.hpp"
#include "namespace/handle_table.hpp"
#include "namespace/open_handle.hpp"
#include "namespace/open_index.hpp"
#include "temp_dir.hpp"

namespace mapfs::testing {
namespace {

using Windows = std::vector<std::shared_ptr<Window>>;

class OpenHandlesTest : public ::testing::Test {
protected:
    TempDir dir;
    Config config;
    OpenIndex index;

    OpenHandlesTest() {
        std::filesystem::create_directory(dir / "mnt");
        config.mountpoint = (dir / "mnt").string();
        config.regions.push_back(file_region("disk", dir.write_file("disk.img", pattern_bytes(1 << 20, 1)).string()));
        config.regions.push_back(file_region("other", dir.write_file("other.img", pattern_bytes(1 << 16, 2)).string()));
    }

    Windows map() {
        ConfigErrors errors;
        auto plan = make_plan(config, errors);
        EXPECT_TRUE(errors.empty()) << errors.to_string();
        auto windows = map_windows(*plan);
        return windows ? std::move(*windows) : Windows{};
    }

    std::shared_ptr<OpenHandle> open(InodeNumber ino, const std::shared_ptr<Window>& window, pid_t tid = 1,
                                     bool writing = false) {
        return std::make_shared<OpenHandle>(ino, window, index, OpenHandle::Opener{tid, writing});
    }

    // Inodes of the open windows of `file` that overlap [start, end).
    std::vector<InodeNumber> overlapping(const FileIdentity& file, std::uint64_t start, std::uint64_t end) const {
        std::vector<InodeNumber> found;
        index.for_each_overlapping(file, start, end, [&](InodeNumber ino, const Window&) { found.push_back(ino); });
        std::sort(found.begin(), found.end());
        return found;
    }
};

TEST_F(OpenHandlesTest, AnOpenWindowIsIndexedUntilItsLastHandleGoes) {
    config.windows.push_back(window_config("w", "disk", 1000, 5000));
    const Windows windows = map();
    const FileIdentity file = windows[0]->region().identity();
    auto first = open(7, windows[0]);
    auto second = open(7, windows[0]);
    EXPECT_EQ(windows[0]->open_handles.load(), 2u);
    EXPECT_EQ(index.window_of(7), windows[0]);
    EXPECT_EQ(overlapping(file, 0, 1001), std::vector<InodeNumber>{7});
    EXPECT_TRUE(overlapping(file, 0, 1000).empty());
    EXPECT_TRUE(overlapping(file, 6000, 7000).empty());
    first.reset();
    EXPECT_EQ(overlapping(file, 5999, 6000), std::vector<InodeNumber>{7});
    second.reset();
    EXPECT_EQ(index.window_of(7), nullptr);
    EXPECT_TRUE(overlapping(file, 0, UINT64_MAX).empty());
    EXPECT_EQ(windows[0]->open_handles.load(), 0u);
    EXPECT_EQ(index.open_windows(), 0u);
}

// The handle owns its window: a window nobody else holds (a reload dropped
// it) lives as long as a request holds the handle.
TEST_F(OpenHandlesTest, AHandleKeepsItsWindowAliveAfterEveryoneElseLetGo) {
    config.windows.push_back(window_config("w", "disk", 0, 4096));
    Windows windows = map();
    std::weak_ptr<Window> watched = windows[0];
    HandleTable table;
    const auto fh = table.insert(open(4, windows[0]));
    ASSERT_TRUE(fh.has_value());
    windows.clear();
    std::shared_ptr<OpenHandle> in_flight = table.get(*fh, 4);  // a request starts
    table.erase(*fh, 4);                                        // RELEASE races its end
    ASSERT_FALSE(watched.expired());
    EXPECT_EQ(in_flight->window()->bytes().size(), 4096u);
    EXPECT_EQ(index.window_of(4), watched.lock());
    in_flight.reset();  // the request ends
    EXPECT_TRUE(watched.expired());
    EXPECT_EQ(index.window_of(4), nullptr);
}

TEST_F(OpenHandlesTest, OverlapQueriesMatchABruteForceScan) {
    std::mt19937 random(5);
    for (int i = 0; i < 300; ++i) {
        const std::uint64_t offset = random() % 900000;
        config.windows.push_back(window_config("w" + std::to_string(i), i % 5 == 0 ? "other" : "disk",
                                               i % 5 == 0 ? offset % 60000 : offset, 1 + random() % 5000));
    }
    const Windows windows = map();
    std::vector<std::shared_ptr<OpenHandle>> handles;
    for (std::size_t i = 0; i < windows.size(); i += 2) handles.push_back(open(100 + i, windows[i]));
    const FileIdentity disk = windows[1]->region().identity();
    for (std::uint64_t start = 0; start < 1000000; start += 7919) {
        std::vector<InodeNumber> expected;
        for (std::size_t i = 0; i < windows.size(); i += 2) {
            const Window& w = *windows[i];
            if (w.region().identity() == disk && w.offset_bytes() < start + 3000 && w.offset_bytes() + w.length_bytes() > start)
                expected.push_back(100 + i);
        }
        EXPECT_EQ(overlapping(disk, start, start + 3000), expected) << start;
    }
}

// The SETATTR of an open(O_TRUNC) comes from the thread that opened, right
// after the open; truncate(2) from anyone else is not mistaken for it.
TEST_F(OpenHandlesTest, OnlyTheOpeningThreadsTruncationIsTakenForAnOpenTruncation) {
    config.windows.push_back(window_config("w", "disk", 0, 4096));
    const Windows windows = map();
    const auto reader = open(9, windows[0], 42, false);
    EXPECT_FALSE(index.claim_open_truncation(9, 42)) << "a read-only open does not truncate";
    const auto writer = open(9, windows[0], 43, true);
    EXPECT_FALSE(index.claim_open_truncation(9, 44));
    EXPECT_FALSE(index.claim_open_truncation(8, 43));
    EXPECT_TRUE(index.claim_open_truncation(9, 43));
    EXPECT_FALSE(index.claim_open_truncation(9, 43)) << "claimed once only";
}

TEST(HandleTable, NumbersAreSmallNeverZeroAndReused) {
    HandleTable table;
    std::set<std::uint64_t> numbers;
    std::vector<std::uint64_t> taken;
    for (int i = 0; i < 3000; ++i) {
        const auto fh = table.insert(std::make_shared<OpenHandle>(3, "report"));
        ASSERT_TRUE(fh.has_value());
        EXPECT_NE(*fh, 0u);
        EXPECT_TRUE(numbers.insert(*fh).second);
        taken.push_back(*fh);
    }
    EXPECT_EQ(*numbers.rbegin(), 3000u);
    EXPECT_EQ(table.size(), 3000u);
    EXPECT_EQ(table.get(0, 3), nullptr);
    EXPECT_EQ(table.get(3001, 3), nullptr);
    EXPECT_EQ(table.get(UINT64_MAX, 3), nullptr);
    EXPECT_NE(table.erase(taken[10], 3), nullptr);
    EXPECT_EQ(table.erase(taken[10], 3), nullptr);
    EXPECT_EQ(table.get(taken[10], 3), nullptr);
    EXPECT_EQ(*table.insert(std::make_shared<OpenHandle>(3, "again")), taken[10]);
    EXPECT_EQ(table.get(taken[10], 3)->status_report(), "again");
}

// A number names a handle of one inode only: a request that names another
// inode (a stale number) gets nothing, and its RELEASE takes nothing away.
TEST(HandleTable, AHandleIsGivenOnlyForTheInodeItWasOpenedOn) {
    HandleTable table;
    const auto fh = table.insert(std::make_shared<OpenHandle>(7, "seven"));
    ASSERT_TRUE(fh.has_value());
    EXPECT_EQ(table.get(*fh, 8), nullptr);
    EXPECT_EQ(table.erase(*fh, 8), nullptr);
    ASSERT_NE(table.get(*fh, 7), nullptr);
    EXPECT_EQ(table.get(*fh, 7)->status_report(), "seven");
}

// After a takeover, the numbers the kernel holds for windows that are gone
// answer nothing and go to no other open until the kernel releases them.
TEST(HandleTable, RetiredNumbersAreGivenAgainOnlyAfterTheirRelease) {
    HandleTable table;
    ASSERT_TRUE(table.restore(2, std::make_shared<OpenHandle>(5, "kept")));
    table.retire({1, 40});
    table.retire({4, 41});
    table.finish_restore();
    std::set<std::uint64_t> given;
    for (int i = 0; i < 3; ++i) given.insert(*table.insert(std::make_shared<OpenHandle>(9, "new")));
    EXPECT_EQ(given, (std::set<std::uint64_t>{3, 5, 6})) << "1 and 4 are the kernel's until it releases them";
    EXPECT_EQ(table.get(1, 40), nullptr);
    EXPECT_EQ(table.erase(1, 39), nullptr);  // not its inode: still retired
    EXPECT_EQ(table.erase(1, 40), nullptr);  // released: free again
    EXPECT_EQ(*table.insert(std::make_shared<OpenHandle>(9, "after")), 1u);
}

// Requests read slots while opens and releases change others.
TEST(HandleTable, ReadersNeverSeeAnotherHandleWhileOthersComeAndGo) {
    HandleTable table;
    std::vector<std::uint64_t> fixed;
    for (int i = 0; i < 100; ++i) fixed.push_back(*table.insert(std::make_shared<OpenHandle>(i, std::to_string(i))));
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        while (!stop) {
            std::vector<std::uint64_t> added;
            for (int i = 0; i < 500; ++i) added.push_back(*table.insert(std::make_shared<OpenHandle>(1000, "churn")));
            for (const std::uint64_t fh : added) table.erase(fh, 1000);
        }
    });
    int wrong = 0;
    for (int round = 0; round < 2000; ++round)
        for (int i = 0; i < 100; ++i)
            if (table.get(fixed[i], i)->status_report() != std::to_string(i)) ++wrong;
    stop = true;
    churn.join();
    EXPECT_EQ(wrong, 0);
}

// A record is one word: what mapfs 0.1 wrote (the inode number) reads as
// an open served by mapfs; a passed-through one carries its backing id.
TEST(HandleRecords, ARecordIsOneWordThatOlderServersWroteToo) {
    EXPECT_EQ(HandleRecords::decode(7, 42), (HandleRecords::Record{7, 42, 0}));
    EXPECT_EQ(HandleRecords::encode(42, 0), 42u);
    const std::uint64_t word = HandleRecords::encode(42, 3);
    EXPECT_NE(word, 42u);
    EXPECT_EQ(HandleRecords::decode(7, word), (HandleRecords::Record{7, 42, 3}));
    EXPECT_EQ(HandleRecords::decode(1, HandleRecords::encode(0xffffffffu, 0x7fffffffu)),
              (HandleRecords::Record{1, 0xffffffffu, 0x7fffffffu}));
    EXPECT_FALSE(HandleRecords::can_record_backing(std::uint64_t{1} << 32));
    const std::uint64_t large = (std::uint64_t{1} << 40) + 5;
    EXPECT_EQ(HandleRecords::decode(1, HandleRecords::encode(large, 0)), (HandleRecords::Record{1, large, 0}));
}

TEST(HandleRecords, ANextServerReadsTheBackingIdsOfTheOpenHandles) {
    HandleRecords records;
    ASSERT_TRUE(records.create());
    records.opened(1, 10);
    records.opened(2, 11, 5);
    records.opened(5000, 12, 6);
    records.closed(1);
    HandleRecords next;
    ASSERT_TRUE(next.adopt(UniqueFd(::dup(records.fd()))));
    const std::vector<HandleRecords::Record> expected{{2, 11, 5}, {5000, 12, 6}};
    EXPECT_EQ(next.open_handles(), expected);
}

// The kernel serves an inode's open files one way: the index tells a new
// open how the first of them is served.
TEST_F(OpenHandlesTest, TheIndexTellsHowAnInodesOpenFilesAreServed) {
    config.windows.push_back(window_config("a", "disk", 0, 4096, Access::read));
    const Windows windows = map();
    EXPECT_FALSE(index.open_mode(5).has_value());
    const auto connection = std::make_shared<BackingConnection>();  // no descriptor: closing the id does nothing
    const auto backing = BackingFile::adopt(connection, 9);
    auto first = std::make_shared<OpenHandle>(5, windows[0], index, OpenHandle::Opener{}, backing);
    auto second = open(5, windows[0]);
    ASSERT_TRUE(index.open_mode(5).has_value());
    EXPECT_EQ(*index.open_mode(5), backing);
    EXPECT_EQ(windows[0]->passthrough_handles.load(), 1u);
    first.reset();
    ASSERT_TRUE(index.open_mode(5).has_value());
    EXPECT_EQ(*index.open_mode(5), nullptr) << "the one left is served by mapfs";
    EXPECT_EQ(windows[0]->passthrough_handles.load(), 0u);
    EXPECT_TRUE(windows[0]->served_by_kernel.load()) << "the counters miss what the kernel served";
    second.reset();
    EXPECT_FALSE(index.open_mode(5).has_value());
}

TEST(WritebackErrors, EachHolderHearsEachErrorOnceAndOnlyErrorsAfterItStarted) {
    WritebackErrors errors;
    errors.record(0);
    std::uint64_t early = errors.generation();
    EXPECT_EQ(errors.take(early), 0);
    errors.record(EIO);
    std::uint64_t late = errors.generation();  // opened after the error
    std::uint64_t other = 0;
    EXPECT_EQ(errors.take(early), EIO);
    EXPECT_EQ(errors.take(early), 0);
    EXPECT_EQ(errors.take(other), EIO);
    EXPECT_EQ(errors.take(late), 0);
    errors.record(ENOSPC);
    EXPECT_EQ(errors.take(late), ENOSPC);
    EXPECT_EQ(errors.take(early), ENOSPC);
}

}  // namespace
}  // namespace mapfs::testing
