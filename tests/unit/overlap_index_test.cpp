// OverlapIndex against a brute-force scan.
#include "namespace/overlap_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using mapfs::OverlapIndex;
using Entry = OverlapIndex::Entry;

std::vector<std::uint32_t> indexed(const OverlapIndex& index, std::uint64_t start, std::uint64_t end) {
    std::vector<std::uint32_t> ids;
    index.for_each_overlap(start, end, [&](std::uint32_t id) { ids.push_back(id); });
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::vector<std::uint32_t> brute_force(const std::vector<Entry>& entries, std::uint64_t start, std::uint64_t end) {
    std::vector<std::uint32_t> ids;
    for (const Entry& entry : entries)
        if (entry.start < end && entry.end > start) ids.push_back(entry.id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

TEST(OverlapIndex, EmptyIndexVisitsNothing) {
    const OverlapIndex empty;
    EXPECT_EQ(empty.size(), 0u);
    EXPECT_TRUE(indexed(empty, 0, UINT64_MAX).empty());
    const OverlapIndex from_empty_vector(std::vector<Entry>{});
    EXPECT_EQ(from_empty_vector.size(), 0u);
    EXPECT_TRUE(indexed(from_empty_vector, 0, UINT64_MAX).empty());
}

TEST(OverlapIndex, SingleEntry) {
    const OverlapIndex index({{100, 200, 7}});
    EXPECT_EQ(index.size(), 1u);
    EXPECT_EQ(indexed(index, 150, 160), std::vector<std::uint32_t>{7});
    EXPECT_EQ(indexed(index, 0, 101), std::vector<std::uint32_t>{7});
    EXPECT_EQ(indexed(index, 199, 300), std::vector<std::uint32_t>{7});
    EXPECT_EQ(indexed(index, 0, UINT64_MAX), std::vector<std::uint32_t>{7});
    EXPECT_TRUE(indexed(index, 0, 100).empty());
    EXPECT_TRUE(indexed(index, 200, 300).empty());
    EXPECT_TRUE(indexed(index, 500, 600).empty());
}

TEST(OverlapIndex, TouchingIntervalsDoNotOverlap) {
    const OverlapIndex index({{0, 10, 1}, {10, 20, 2}, {20, 30, 3}});
    // A query that ends where an entry starts, or starts where one ends, misses it.
    EXPECT_EQ(indexed(index, 10, 20), std::vector<std::uint32_t>{2});
    EXPECT_EQ(indexed(index, 5, 10), std::vector<std::uint32_t>{1});
    EXPECT_EQ(indexed(index, 20, 25), std::vector<std::uint32_t>{3});
    EXPECT_EQ(indexed(index, 9, 11), (std::vector<std::uint32_t>{1, 2}));
    EXPECT_EQ(indexed(index, 0, 30), (std::vector<std::uint32_t>{1, 2, 3}));
    EXPECT_TRUE(indexed(index, 30, 40).empty());
}

TEST(OverlapIndex, EmptyQueryFollowsTheDocumentedPredicate) {
    // start < end_offset && end > start_offset: an empty query [7, 7) meets
    // the entries that contain byte 7, and nothing else.
    const std::vector<Entry> entries{{0, 10, 1}, {5, 15, 2}, {7, 9, 3}, {8, 20, 4}, {0, 7, 5}};
    const OverlapIndex index(entries);
    EXPECT_EQ(indexed(index, 7, 7), brute_force(entries, 7, 7));
    EXPECT_EQ(indexed(index, 7, 7), (std::vector<std::uint32_t>{1, 2}));
}

TEST(OverlapIndex, DuplicatesAndIdenticalStartsAreAllReported) {
    const OverlapIndex index({{0, 100, 1}, {0, 100, 2}, {0, 50, 3}, {0, 100, 4}});
    EXPECT_EQ(indexed(index, 60, 61), (std::vector<std::uint32_t>{1, 2, 4}));
    EXPECT_EQ(indexed(index, 0, 1), (std::vector<std::uint32_t>{1, 2, 3, 4}));
}

TEST(OverlapIndex, UnsortedInputIsSorted) {
    const OverlapIndex index({{500, 600, 5}, {0, 10, 0}, {300, 400, 3}, {100, 200, 1}});
    EXPECT_EQ(indexed(index, 150, 350), (std::vector<std::uint32_t>{1, 3}));
    EXPECT_EQ(indexed(index, 550, 551), std::vector<std::uint32_t>{5});
}

TEST(OverlapIndex, OneHugeIntervalAndManySmallOnes) {
    std::vector<Entry> entries;
    entries.push_back({0, UINT64_MAX, 0});
    for (std::uint32_t i = 1; i <= 1000; ++i) entries.push_back({std::uint64_t{i} * 4096, std::uint64_t{i} * 4096 + 100, i});
    const OverlapIndex index(entries);
    EXPECT_EQ(index.size(), 1001u);
    // Between small ones, only the huge one.
    EXPECT_EQ(indexed(index, 4096 + 200, 4096 + 300), std::vector<std::uint32_t>{0});
    EXPECT_EQ(indexed(index, 4096 * 5 + 50, 4096 * 5 + 51), (std::vector<std::uint32_t>{0, 5}));
    EXPECT_EQ(indexed(index, UINT64_MAX - 1, UINT64_MAX), std::vector<std::uint32_t>{0});
    EXPECT_EQ(indexed(index, 0, UINT64_MAX).size(), 1001u);
    // The huge one sorted last by start (another entry at the same start as
    // a late small one) must still be found from early queries.
    std::vector<Entry> late(entries.begin() + 1, entries.end());
    late.push_back({4096 * 1000, UINT64_MAX, 5000});
    late.push_back({0, 4096 * 2000, 6000});
    const OverlapIndex late_index(late);
    EXPECT_EQ(indexed(late_index, 4096 * 999 + 200, 4096 * 1000 + 1), (std::vector<std::uint32_t>{1000, 5000, 6000}));
    EXPECT_EQ(indexed(late_index, 4096 * 3000, 4096 * 3001), std::vector<std::uint32_t>{5000});
}

TEST(OverlapIndex, MatchesBruteForceOnRandomIntervals) {
    std::mt19937_64 random(20240611);
    for (int round = 0; round < 4; ++round) {
        const std::uint64_t space = round % 2 == 0 ? 1'000'000 : 5'000;  // sparse and dense
        std::uniform_int_distribution<std::uint64_t> position(0, space);
        std::uniform_int_distribution<std::uint64_t> small_length(1, space / 100);
        std::uniform_int_distribution<std::uint64_t> any_length(1, space);
        std::vector<Entry> entries;
        for (std::uint32_t id = 0; id < 3000; ++id) {
            const std::uint64_t start = position(random);
            const std::uint64_t length = id % 10 == 0 ? any_length(random) : small_length(random);
            entries.push_back({start, start + length, id});
        }
        const OverlapIndex index(entries);
        ASSERT_EQ(index.size(), entries.size());
        std::size_t total_hits = 0;
        for (int query = 0; query < 3000; ++query) {
            const std::uint64_t start = position(random);
            const std::uint64_t length = query % 7 == 0 ? any_length(random) : small_length(random);
            const auto expected = brute_force(entries, start, start + length);
            total_hits += expected.size();
            ASSERT_EQ(indexed(index, start, start + length), expected)
                << "round " << round << " query [" << start << ", " << start + length << ")";
        }
        // The queries really did exercise overlaps.
        EXPECT_GT(total_hits, 3000u);
    }
}

TEST(OverlapIndex, EachOverlapIsVisitedOnce) {
    std::mt19937 random(7);
    std::vector<Entry> entries;
    for (std::uint32_t id = 0; id < 500; ++id) {
        const std::uint64_t start = random() % 10000;
        entries.push_back({start, start + 1 + random() % 3000, id});
    }
    const OverlapIndex index(entries);
    std::vector<std::uint32_t> ids;
    index.for_each_overlap(2000, 8000, [&](std::uint32_t id) { ids.push_back(id); });
    std::vector<std::uint32_t> unique = ids;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    EXPECT_EQ(ids.size(), unique.size());
    EXPECT_EQ(unique, brute_force(entries, 2000, 8000));
}

}  // namespace
