// Byte arithmetic of windows: clamping requests and page-aligning mappings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/expected.hpp"

namespace mapfs {

struct ByteRange {
    std::uint64_t offset = 0;
    std::size_t length = 0;
    bool operator==(const ByteRange&) const = default;
};

// Bytes a read of `size` at `position` gets: up to the end, none past it.
ByteRange clamp_read(std::uint64_t window_length, std::uint64_t position, std::size_t size) noexcept;

// Bytes a write gets: the part that fits, or ENOSPC at or past the end.
Result<ByteRange> clamp_write(std::uint64_t window_length, std::uint64_t position,
                              std::size_t size) noexcept;

// offset + length, or nothing when it overflows 64 bits.
std::optional<std::uint64_t> checked_end(std::uint64_t offset, std::uint64_t length) noexcept;

// The page-aligned file range that covers [offset, offset + length).
struct PageSpan {
    std::uint64_t file_offset = 0;  // rounded down to a page
    std::uint64_t length = 0;       // rounded up to a page
    std::uint64_t lead = 0;         // offset - file_offset
    bool operator==(const PageSpan&) const = default;
};
std::optional<PageSpan> page_span(std::uint64_t offset, std::uint64_t length,
                                  std::uint64_t page_bytes) noexcept;

}  // namespace mapfs
