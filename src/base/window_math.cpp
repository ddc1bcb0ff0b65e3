#include "base/window_math.hpp"

#include <algorithm>
#include <cerrno>

namespace mapfs {

ByteRange clamp_read(std::uint64_t window_length, std::uint64_t position, std::size_t size) noexcept {
    if (position >= window_length) return {position, 0};
    return {position, static_cast<std::size_t>(std::min<std::uint64_t>(size, window_length - position))};
}

Result<ByteRange> clamp_write(std::uint64_t window_length, std::uint64_t position,
                              std::size_t size) noexcept {
    if (size == 0) return ByteRange{position, 0};
    // Like a full block device: nothing fits at or past the end.
    if (position >= window_length) return unexpected(ENOSPC);
    return ByteRange{position, static_cast<std::size_t>(std::min<std::uint64_t>(size, window_length - position))};
}

std::optional<std::uint64_t> checked_end(std::uint64_t offset, std::uint64_t length) noexcept {
    std::uint64_t end = 0;
    if (__builtin_add_overflow(offset, length, &end)) return std::nullopt;
    return end;
}

std::optional<PageSpan> page_span(std::uint64_t offset, std::uint64_t length,
                                  std::uint64_t page_bytes) noexcept {
    const auto end = checked_end(offset, length);
    if (!end || page_bytes == 0) return std::nullopt;
    const std::uint64_t start = offset - offset % page_bytes;
    const std::uint64_t tail = *end % page_bytes;
    const auto rounded_end = tail == 0 ? end : checked_end(*end, page_bytes - tail);
    if (!rounded_end) return std::nullopt;
    return PageSpan{start, *rounded_end - start, offset - start};
}

}  // namespace mapfs
