// Move-only owner of one mmap(2) mapping of a file range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/expected.hpp"

namespace mapfs {

class Mapping {
public:
    Mapping() noexcept = default;
    Mapping(Mapping&& other) noexcept;
    Mapping& operator=(Mapping&& other) noexcept;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();

    // Maps [file_offset, file_offset + length_bytes) of fd. file_offset must
    // be page-aligned; callers round down and serve from inside the span.
    static Result<Mapping> map(int fd, std::uint64_t file_offset,
                               std::size_t length_bytes, int prot, int flags) noexcept;

    std::span<std::byte> bytes() const noexcept { return {base_, length_}; }
    std::uint64_t file_offset() const noexcept { return file_offset_; }
    std::size_t length_bytes() const noexcept { return length_; }
    int prot() const noexcept { return prot_; }
    int flags() const noexcept { return flags_; }
    bool mapped() const noexcept { return base_ != nullptr; }

    // msync(MS_SYNC) of the pages covering [offset, offset + length) of the span.
    int sync(std::size_t offset, std::size_t length_bytes) const noexcept;

    // madvise(advice) of the whole mapping; 0 or errno.
    int advise(int advice) const noexcept;

private:
    void unmap() noexcept;

    std::byte* base_ = nullptr;
    std::size_t length_ = 0;
    std::uint64_t file_offset_ = 0;
    int prot_ = 0;
    int flags_ = 0;
};

std::size_t page_size() noexcept;

}  // namespace mapfs
