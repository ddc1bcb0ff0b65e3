// Whole reads and writes at an offset (pread/pwrite until done, again on
// EINTR): false on an error or an early end of file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mapfs {

bool read_fully_at(int fd, void* data, std::size_t length, std::uint64_t offset) noexcept;
bool write_fully_at(int fd, const void* data, std::size_t length, std::uint64_t offset) noexcept;

}  // namespace mapfs
