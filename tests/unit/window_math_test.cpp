// Byte arithmetic of windows: read/write clamping, overflow-checked ends and
// page-aligned spans.
#include "base/window_math.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

namespace {

using mapfs::ByteRange;
using mapfs::checked_end;
using mapfs::clamp_read;
using mapfs::clamp_write;
using mapfs::page_span;
using mapfs::PageSpan;

constexpr std::uint64_t page = 4096;

TEST(ClampRead, InsideTheWindowGetsEverything) {
    EXPECT_EQ(clamp_read(1000, 0, 100), (ByteRange{0, 100}));
    EXPECT_EQ(clamp_read(1000, 900, 100), (ByteRange{900, 100}));
    EXPECT_EQ(clamp_read(1000, 0, 1000), (ByteRange{0, 1000}));
}

TEST(ClampRead, StraddlingTheEndIsShort) {
    EXPECT_EQ(clamp_read(1000, 950, 100), (ByteRange{950, 50}));
    EXPECT_EQ(clamp_read(1000, 999, 4096), (ByteRange{999, 1}));
    EXPECT_EQ(clamp_read(1000, 0, 1001), (ByteRange{0, 1000}));
}

TEST(ClampRead, AtOrPastTheEndGetsNothing) {
    EXPECT_EQ(clamp_read(1000, 1000, 100).length, 0u);
    EXPECT_EQ(clamp_read(1000, 1001, 100).length, 0u);
    EXPECT_EQ(clamp_read(1000, UINT64_MAX, 100).length, 0u);
    EXPECT_EQ(clamp_read(0, 0, 100).length, 0u);
}

TEST(ClampRead, ZeroSizeGetsNothing) {
    EXPECT_EQ(clamp_read(1000, 10, 0), (ByteRange{10, 0}));
}

TEST(ClampRead, HugeWindowDoesNotTruncateTheLength) {
    // The remaining window length exceeds size_t-range arithmetic tricks.
    EXPECT_EQ(clamp_read(UINT64_MAX, 5, 1 << 20), (ByteRange{5, std::size_t{1} << 20}));
}

TEST(ClampWrite, InsideTheWindowGetsEverything) {
    const auto range = clamp_write(1000, 100, 200);
    ASSERT_TRUE(range.has_value());
    EXPECT_EQ(*range, (ByteRange{100, 200}));
}

TEST(ClampWrite, AtOrPastTheEndIsEnospc) {
    const auto at_end = clamp_write(1000, 1000, 1);
    ASSERT_FALSE(at_end.has_value());
    EXPECT_EQ(at_end.error(), ENOSPC);
    const auto past_end = clamp_write(1000, 5000, 10);
    ASSERT_FALSE(past_end.has_value());
    EXPECT_EQ(past_end.error(), ENOSPC);
    const auto empty_window = clamp_write(0, 0, 1);
    ASSERT_FALSE(empty_window.has_value());
    EXPECT_EQ(empty_window.error(), ENOSPC);
}

TEST(ClampWrite, StraddlingTheEndWritesThePartThatFits) {
    const auto range = clamp_write(1000, 990, 100);
    ASSERT_TRUE(range.has_value());
    EXPECT_EQ(*range, (ByteRange{990, 10}));
}

TEST(ClampWrite, ZeroSizeIsFineAnywhere) {
    const auto inside = clamp_write(1000, 10, 0);
    ASSERT_TRUE(inside.has_value());
    EXPECT_EQ(inside->length, 0u);
    const auto past = clamp_write(1000, 2000, 0);
    ASSERT_TRUE(past.has_value());
    EXPECT_EQ(past->length, 0u);
}

TEST(CheckedEnd, AddsOrReportsOverflow) {
    EXPECT_EQ(checked_end(1, 2), std::optional<std::uint64_t>(3));
    EXPECT_EQ(checked_end(0, UINT64_MAX), std::optional<std::uint64_t>(UINT64_MAX));
    EXPECT_EQ(checked_end(UINT64_MAX - 10, 10), std::optional<std::uint64_t>(UINT64_MAX));
    EXPECT_FALSE(checked_end(UINT64_MAX - 10, 11).has_value());
    EXPECT_FALSE(checked_end(1, UINT64_MAX).has_value());
    EXPECT_FALSE(checked_end(UINT64_MAX, UINT64_MAX).has_value());
}

TEST(PageSpan, AlignedRangeIsUnchanged) {
    EXPECT_EQ(page_span(0, page, page), (PageSpan{0, page, 0}));
    EXPECT_EQ(page_span(2 * page, 3 * page, page), (PageSpan{2 * page, 3 * page, 0}));
}

TEST(PageSpan, UnalignedOffsetRoundsDownAndUp) {
    const auto span = page_span(12345, 100, page);
    ASSERT_TRUE(span.has_value());
    EXPECT_EQ(span->file_offset, 12288u);
    EXPECT_EQ(span->lead, 57u);
    EXPECT_EQ(span->length, 4096u);
    // The span covers the range.
    EXPECT_LE(span->file_offset, 12345u);
    EXPECT_GE(span->file_offset + span->length, 12345u + 100u);
}

TEST(PageSpan, RangeCrossingPagesCoversEveryPage) {
    // 4000..4200 touches pages 0 and 1.
    EXPECT_EQ(page_span(4000, 200, page), (PageSpan{0, 2 * page, 4000}));
    // 4095..8193 touches pages 0, 1 and 2.
    EXPECT_EQ(page_span(4095, 4098, page), (PageSpan{0, 3 * page, 4095}));
    // Ends exactly on a boundary: no extra page.
    EXPECT_EQ(page_span(100, 2 * page - 100, page), (PageSpan{0, 2 * page, 100}));
    // 1 MiB + 1 byte from an unaligned start.
    EXPECT_EQ(page_span(page + 1, (1u << 20) + 1, page), (PageSpan{page, (1u << 20) + page, 1}));
}

TEST(PageSpan, ZeroLength) {
    EXPECT_EQ(page_span(8192, 0, page), (PageSpan{8192, 0, 0}));
    EXPECT_EQ(page_span(8193, 0, page), (PageSpan{8192, page, 1}));
}

TEST(PageSpan, OtherPageSizes) {
    EXPECT_EQ(page_span(70000, 10, 65536), (PageSpan{65536, 65536, 70000 - 65536}));
}

TEST(PageSpan, OverflowNearTheTopReturnsNothing) {
    EXPECT_FALSE(page_span(UINT64_MAX, 1, page).has_value());
    EXPECT_FALSE(page_span(1, UINT64_MAX, page).has_value());
    // The end fits but rounding it up to a page does not.
    EXPECT_FALSE(page_span(UINT64_MAX - 100, 50, page).has_value());
    // The last whole page below 2^64 ends at exactly 2^64, which does not fit.
    EXPECT_FALSE(page_span(UINT64_MAX - page + 1, page - 1, page).has_value());
    // Well below the top it still works.
    const std::uint64_t high = (UINT64_MAX / page - 2) * page;
    EXPECT_EQ(page_span(high + 1, 10, page), (PageSpan{high, page, 1}));
}

TEST(PageSpan, ZeroPageSizeReturnsNothing) {
    EXPECT_FALSE(page_span(0, 10, 0).has_value());
}

}  // namespace
