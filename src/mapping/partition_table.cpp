#include "mapping/partition_table.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <set>

namespace mapfs {

std::uint32_t crc32(std::span<const std::byte> bytes) noexcept {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> entries{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t value = i;
            for (int bit = 0; bit < 8; ++bit) value = (value & 1) != 0 ? 0xEDB88320u ^ (value >> 1) : value >> 1;
            entries[i] = value;
        }
        return entries;
    }();
    std::uint32_t crc = 0xFFFFFFFFu;
    for (const std::byte byte : bytes) crc = table[(crc ^ static_cast<std::uint8_t>(byte)) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

namespace {

constexpr std::uint64_t mbr_sector = 512;
constexpr unsigned max_logical_partitions = 256;
constexpr std::uint32_t max_gpt_entries = 16384;
constexpr std::uint32_t max_gpt_entry_size = 4096;

std::uint64_t little_endian(const std::byte* at, int bytes) {
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(at[i]);
    return value;
}

std::string bytes_text(std::uint64_t bytes) { return std::to_string(bytes) + " bytes"; }

// GUIDs store their first three fields little-endian.
std::string guid_text(const std::byte* at) {
    char text[40];
    std::snprintf(text, sizeof text, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                  static_cast<unsigned>(little_endian(at, 4)), static_cast<unsigned>(little_endian(at + 4, 2)),
                  static_cast<unsigned>(little_endian(at + 6, 2)), static_cast<unsigned>(at[8]), static_cast<unsigned>(at[9]),
                  static_cast<unsigned>(at[10]), static_cast<unsigned>(at[11]), static_cast<unsigned>(at[12]),
                  static_cast<unsigned>(at[13]), static_cast<unsigned>(at[14]), static_cast<unsigned>(at[15]));
    return text;
}

void append_utf8(std::string& text, std::uint32_t code) {
    if (code < 0x80) {
        text += static_cast<char>(code);
    } else if (code < 0x800) {
        text += static_cast<char>(0xC0 | (code >> 6));
        text += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        text += static_cast<char>(0xE0 | (code >> 12));
        text += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        text += static_cast<char>(0xF0 | (code >> 18));
        text += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (code & 0x3F));
    }
}

// A GPT name: UTF-16LE, ended by NUL or by its field; a lone surrogate
// becomes U+FFFD.
std::string utf16_name(const std::byte* at, std::size_t units) {
    std::string name;
    for (std::size_t i = 0; i < units; ++i) {
        std::uint32_t unit = static_cast<std::uint32_t>(little_endian(at + 2 * i, 2));
        if (unit == 0) break;
        if (unit >= 0xD800 && unit < 0xDC00 && i + 1 < units) {
            const auto low = static_cast<std::uint32_t>(little_endian(at + 2 * i + 2, 2));
            if (low >= 0xDC00 && low < 0xE000) {
                append_utf8(name, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
                ++i;
                continue;
            }
        }
        append_utf8(name, unit >= 0xD800 && unit < 0xE000 ? 0xFFFD : unit);
    }
    return name;
}

class TableReader {
public:
    TableReader(const ReadWindowBytes& read, std::uint64_t window_bytes) : read_(read), window_bytes_(window_bytes) {}

    Parsed<std::vector<Partition>> read() {
        std::vector<std::byte> mbr(mbr_sector);
        if (window_bytes_ < mbr_sector || !read_(0, mbr))
            return unexpected(std::string("no partition table: the window is shorter than one sector"));
        if (gpt_signature_at(512) || gpt_signature_at(4096) || protective(mbr)) return read_gpt();
        return read_mbr(mbr);
    }

private:
    bool gpt_signature_at(std::uint64_t offset) {
        std::array<std::byte, 8> signature{};
        return offset + 8 <= window_bytes_ && read_(offset, signature) && std::memcmp(signature.data(), "EFI PART", 8) == 0;
    }

    static bool has_boot_signature(const std::vector<std::byte>& sector) {
        return static_cast<std::uint8_t>(sector[510]) == 0x55 && static_cast<std::uint8_t>(sector[511]) == 0xAA;
    }

    static bool protective(const std::vector<std::byte>& mbr) {
        if (!has_boot_signature(mbr)) return false;
        for (int slot = 0; slot < 4; ++slot)
            if (static_cast<std::uint8_t>(mbr[446 + 16 * slot + 4]) == 0xEE) return true;
        return false;
    }

    static bool extended_type(std::uint8_t type) { return type == 0x05 || type == 0x0F || type == 0x85; }

    static std::string mbr_type(std::uint8_t type) {
        char text[8];
        std::snprintf(text, sizeof text, "0x%02x", type);
        return text;
    }

    // A partition of `sectors` sectors at byte `start`, checked against the window.
    Expected<Partition, std::string> make(PartitionLabel label, std::uint64_t start, std::uint64_t length,
                                          const std::string& entry) const {
        const std::uint64_t end = start + length;
        if (length == 0 || end < start || end > window_bytes_) {
            return unexpected(entry + " spans bytes " + std::to_string(start) + " to " + std::to_string(end) +
                              ", past the end of the window (" + bytes_text(window_bytes_) + ")");
        }
        return Partition{std::move(label), start, length};
    }

    Parsed<std::vector<Partition>> read_mbr(const std::vector<std::byte>& mbr) {
        if (!has_boot_signature(mbr)) return unexpected(std::string("no partition table: no MBR boot signature (55 AA) at byte 510, and no GPT"));
        std::vector<Partition> partitions;
        unsigned next_logical = 5;
        for (int slot = 0; slot < 4; ++slot) {
            const std::byte* entry = mbr.data() + 446 + 16 * slot;
            const auto type = static_cast<std::uint8_t>(entry[4]);
            const std::uint64_t start = little_endian(entry + 8, 4) * mbr_sector;
            const std::uint64_t length = little_endian(entry + 12, 4) * mbr_sector;
            if (type == 0 || length == 0) continue;
            const std::string name = "MBR entry " + std::to_string(slot + 1);
            if (extended_type(type)) {
                if (auto failure = read_extended(start, partitions, next_logical); !failure.empty()) return unexpected(failure);
                continue;
            }
            auto partition = make({static_cast<unsigned>(slot + 1), "mbr", "", mbr_type(type)}, start, length, name);
            if (!partition) return unexpected(partition.error());
            partitions.push_back(std::move(*partition));
        }
        return partitions;
    }

    // The chain of extended boot records from `extended_start`: each holds
    // logical partitions (relative to itself) and a link to the next
    // (relative to the extended partition).
    std::string read_extended(std::uint64_t extended_start, std::vector<Partition>& partitions, unsigned& next_number) {
        std::set<std::uint64_t> visited;
        std::uint64_t record = extended_start;
        while (true) {
            if (!visited.insert(record).second)
                return "the extended partition's chain loops back to the record at byte " + std::to_string(record);
            if (visited.size() > max_logical_partitions)
                return "the extended partition's chain is longer than " + std::to_string(max_logical_partitions) + " records";
            std::vector<std::byte> sector(mbr_sector);
            if (record + mbr_sector > window_bytes_ || !read_(record, sector))
                return "the extended boot record at byte " + std::to_string(record) + " is past the end of the window (" +
                       bytes_text(window_bytes_) + ")";
            if (!has_boot_signature(sector))
                return "the extended boot record at byte " + std::to_string(record) + " has no boot signature (55 AA)";
            std::uint64_t next = 0;
            for (int slot = 0; slot < 4; ++slot) {
                const std::byte* entry = sector.data() + 446 + 16 * slot;
                const auto type = static_cast<std::uint8_t>(entry[4]);
                const std::uint64_t start = little_endian(entry + 8, 4) * mbr_sector;
                const std::uint64_t length = little_endian(entry + 12, 4) * mbr_sector;
                if (type == 0 || length == 0) continue;
                if (extended_type(type)) {
                    if (next == 0) next = extended_start + start;
                    continue;
                }
                const std::string name = "logical partition " + std::to_string(next_number) + " (record at byte " +
                                         std::to_string(record) + ")";
                auto partition = make({next_number, "mbr", "", mbr_type(type)}, record + start, length, name);
                if (!partition) return partition.error();
                partitions.push_back(std::move(*partition));
                ++next_number;
            }
            if (next == 0) return "";
            record = next;
        }
    }

    struct GptHeader {
        std::uint64_t entries_lba = 0;
        std::uint32_t entry_count = 0;
        std::uint32_t entry_size = 0;
        std::uint32_t entries_crc = 0;
        std::uint64_t alternate_lba = 0;
    };

    // The header at `lba` if its signature and CRC hold, else why not.
    Expected<GptHeader, std::string> gpt_header(std::uint64_t lba, std::uint64_t sector_bytes) {
        std::vector<std::byte> sector(sector_bytes);
        if (lba >= window_bytes_ / sector_bytes)
            return unexpected("the GPT header at LBA " + std::to_string(lba) + " is past the end of the window");
        const std::uint64_t offset = lba * sector_bytes;
        if (!read_(offset, sector))
            return unexpected("the GPT header at LBA " + std::to_string(lba) + " is past the end of the window");
        if (std::memcmp(sector.data(), "EFI PART", 8) != 0)
            return unexpected("no GPT header signature at LBA " + std::to_string(lba));
        const auto header_size = static_cast<std::uint32_t>(little_endian(sector.data() + 12, 4));
        if (header_size < 92 || header_size > sector_bytes)
            return unexpected("the GPT header at LBA " + std::to_string(lba) + " has a size of " + std::to_string(header_size));
        const auto stored_crc = static_cast<std::uint32_t>(little_endian(sector.data() + 16, 4));
        std::fill(sector.begin() + 16, sector.begin() + 20, std::byte{0});
        if (crc32({sector.data(), header_size}) != stored_crc)
            return unexpected("the GPT header at LBA " + std::to_string(lba) + " fails its CRC");
        GptHeader header;
        header.alternate_lba = little_endian(sector.data() + 32, 8);
        header.entries_lba = little_endian(sector.data() + 72, 8);
        header.entry_count = static_cast<std::uint32_t>(little_endian(sector.data() + 80, 4));
        header.entry_size = static_cast<std::uint32_t>(little_endian(sector.data() + 84, 4));
        header.entries_crc = static_cast<std::uint32_t>(little_endian(sector.data() + 88, 4));
        if (header.entry_size < 128 || header.entry_size > max_gpt_entry_size || header.entry_size % 8 != 0 ||
            header.entry_count > max_gpt_entries)
            return unexpected("the GPT header at LBA " + std::to_string(lba) + " describes " +
                              std::to_string(header.entry_count) + " entries of " + std::to_string(header.entry_size) + " bytes");
        return header;
    }

    // The entry array a header points to, if its CRC holds.
    Expected<std::vector<std::byte>, std::string> gpt_entries(const GptHeader& header, std::uint64_t sector_bytes,
                                                              std::uint64_t lba) {
        const std::uint64_t bytes = static_cast<std::uint64_t>(header.entry_count) * header.entry_size;  // bounded by gpt_header
        // entries_lba comes from the image: compared before it is
        // multiplied, so that a huge one cannot wrap to a small offset.
        if (header.entries_lba > window_bytes_ / sector_bytes || bytes > window_bytes_ - header.entries_lba * sector_bytes)
            return unexpected("the GPT entries of the header at LBA " + std::to_string(lba) + " are past the end of the window");
        std::vector<std::byte> entries(static_cast<std::size_t>(bytes));
        const std::uint64_t offset = header.entries_lba * sector_bytes;
        if (!read_(offset, entries))
            return unexpected("the GPT entries of the header at LBA " + std::to_string(lba) + " are past the end of the window");
        if (crc32(entries) != header.entries_crc)
            return unexpected("the GPT entries of the header at LBA " + std::to_string(lba) + " fail their CRC");
        return entries;
    }

    Parsed<std::vector<Partition>> read_gpt() {
        const std::uint64_t sector_bytes = gpt_signature_at(512) || !gpt_signature_at(4096) ? 512 : 4096;
        const std::uint64_t last_lba = window_bytes_ / sector_bytes - 1;
        auto primary = gpt_header(1, sector_bytes);
        std::string why = primary ? "" : primary.error();
        if (primary) {
            auto entries = gpt_entries(*primary, sector_bytes, 1);
            if (entries) return gpt_partitions(*primary, *entries, sector_bytes);
            why = entries.error();
        }
        // The backup: where the primary says, or else the last sector.
        const std::uint64_t backup_lba = primary && primary->alternate_lba != 0 && primary->alternate_lba <= last_lba
                                             ? primary->alternate_lba
                                             : last_lba;
        auto backup = gpt_header(backup_lba, sector_bytes);
        if (!backup) return unexpected(why + ", and the backup is no better: " + backup.error());
        auto entries = gpt_entries(*backup, sector_bytes, backup_lba);
        if (!entries) return unexpected(why + ", and the backup is no better: " + entries.error());
        return gpt_partitions(*backup, *entries, sector_bytes);
    }

    Parsed<std::vector<Partition>> gpt_partitions(const GptHeader& header, const std::vector<std::byte>& entries,
                                                  std::uint64_t sector_bytes) {
        std::vector<Partition> partitions;
        for (std::uint32_t index = 0; index < header.entry_count; ++index) {
            const std::byte* entry = entries.data() + static_cast<std::size_t>(index) * header.entry_size;
            if (std::all_of(entry, entry + 16, [](std::byte b) { return b == std::byte{0}; })) continue;  // unused
            const std::uint64_t first = little_endian(entry + 32, 8);
            const std::uint64_t last = little_endian(entry + 40, 8);
            const std::string name = utf16_name(entry + 56, std::min<std::size_t>(36, (header.entry_size - 56) / 2));
            const std::string what = "GPT entry " + std::to_string(index + 1) + (name.empty() ? "" : " (\"" + name + "\")");
            if (last < first)
                return unexpected(what + " ends at LBA " + std::to_string(last) + ", before it starts at LBA " + std::to_string(first));
            if (last >= window_bytes_ / sector_bytes) {
                return unexpected(what + " spans bytes " + std::to_string(first * sector_bytes) + " to " +
                                  std::to_string((last + 1) * sector_bytes) + ", past the end of the window (" +
                                  bytes_text(window_bytes_) + ")");
            }
            auto partition = make({index + 1, "gpt", name, guid_text(entry)}, first * sector_bytes,
                                  (last - first + 1) * sector_bytes, what);
            if (!partition) return unexpected(partition.error());
            partitions.push_back(std::move(*partition));
        }
        return partitions;
    }

    const ReadWindowBytes& read_;
    std::uint64_t window_bytes_;
};

// Partitions that share bytes cannot both be windows of one disk.
std::string overlap_problem(std::vector<Partition> partitions) {
    std::sort(partitions.begin(), partitions.end(),
              [](const Partition& a, const Partition& b) { return a.offset_bytes < b.offset_bytes; });
    for (std::size_t i = 1; i < partitions.size(); ++i) {
        const Partition& before = partitions[i - 1];
        const Partition& after = partitions[i];
        if (before.offset_bytes + before.length_bytes > after.offset_bytes)
            return "partitions " + std::to_string(before.label.number) + " and " + std::to_string(after.label.number) +
                   " overlap (bytes " + std::to_string(after.offset_bytes) + " to " +
                   std::to_string(std::min(before.offset_bytes + before.length_bytes, after.offset_bytes + after.length_bytes)) + ")";
    }
    return "";
}

}  // namespace

Parsed<std::vector<Partition>> read_partition_table(const ReadWindowBytes& read, std::uint64_t window_bytes) {
    auto partitions = TableReader(read, window_bytes).read();
    if (!partitions) return partitions;
    if (partitions->empty()) return unexpected(std::string("the partition table holds no partition"));
    if (std::string overlap = overlap_problem(*partitions); !overlap.empty()) return unexpected(overlap);
    std::sort(partitions->begin(), partitions->end(),
              [](const Partition& a, const Partition& b) { return a.label.number < b.label.number; });
    return partitions;
}

}  // namespace mapfs
