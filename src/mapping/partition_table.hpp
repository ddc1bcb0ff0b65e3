// Partition tables read from the bytes of a window: MBR (primary
// partitions, and logical ones along the extended chain) and GPT, numbered
// as Linux numbers the partitions of a disk (loop0p1, loop0p2, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/expected.hpp"
#include "config/partition_label.hpp"

namespace mapfs {

struct Partition {
    PartitionLabel label;
    std::uint64_t offset_bytes = 0;  // from the start of the window
    std::uint64_t length_bytes = 0;
};

// Reads into `into` the bytes at `offset` of the window; false when it cannot.
using ReadWindowBytes = std::function<bool(std::uint64_t offset, std::span<std::byte> into)>;

// The partitions of a window of `window_bytes`, in number order; or a message
// naming the table entry and what is wrong with it: no table, a GPT whose
// header or entries fail their CRC with no valid backup, a partition that
// reaches past the end of the window, partitions that overlap, an extended
// chain that loops.
Parsed<std::vector<Partition>> read_partition_table(const ReadWindowBytes& read, std::uint64_t window_bytes);

// CRC-32 (IEEE 802.3, as GPT uses it).
std::uint32_t crc32(std::span<const std::byte> bytes) noexcept;

}  // namespace mapfs
