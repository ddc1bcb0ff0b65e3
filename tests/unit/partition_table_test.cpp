// Partition tables built byte by byte: MBR with an extended chain, GPT with
// its CRCs and backup, and every way a table can be wrong.
#include "mapping/partition_table.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace mapfs {
namespace {

class Image {
public:
    explicit Image(std::uint64_t bytes) : bytes_(bytes) {}

    void put(std::uint64_t offset, std::uint64_t value, int width) {
        for (int i = 0; i < width; ++i) bytes_[offset + i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
    }
    void put_text(std::uint64_t offset, const char* text) { std::memcpy(bytes_.data() + offset, text, std::strlen(text)); }
    void boot_signature(std::uint64_t sector) { put(sector + 510, 0xAA55, 2); }

    // An MBR entry in slot `slot` (0-3) of the record at `sector`.
    void mbr_entry(std::uint64_t sector, int slot, std::uint8_t type, std::uint32_t start_lba, std::uint32_t sectors) {
        const std::uint64_t entry = sector + 446 + 16 * slot;
        put(entry + 4, type, 1);
        put(entry + 8, start_lba, 4);
        put(entry + 12, sectors, 4);
    }

    // A GPT at LBA `header_lba` with `count` entries of 128 bytes at `entries_lba`.
    void gpt_header(std::uint64_t header_lba, std::uint64_t alternate_lba, std::uint64_t entries_lba, std::uint32_t count) {
        const std::uint64_t at = header_lba * 512;
        put_text(at, "EFI PART");
        put(at + 8, 0x00010000, 4);
        put(at + 12, 92, 4);
        put(at + 24, header_lba, 8);
        put(at + 32, alternate_lba, 8);
        put(at + 72, entries_lba, 8);
        put(at + 80, count, 4);
        put(at + 84, 128, 4);
        put(at + 88, crc32({bytes_.data() + entries_lba * 512, count * 128u}), 4);
        put(at + 16, 0, 4);
        put(at + 16, crc32({bytes_.data() + at, 92}), 4);
    }

    void gpt_entry(std::uint64_t entries_lba, unsigned index, std::uint64_t first, std::uint64_t last, const char16_t* name) {
        const std::uint64_t at = entries_lba * 512 + index * 128;
        // Linux filesystem data: 0FC63DAF-8483-4772-8E79-3D69D8477DE4
        const std::uint8_t type[16] = {0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47,
                                       0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4};
        for (int i = 0; i < 16; ++i) bytes_[at + i] = static_cast<std::byte>(type[i]);
        put(at + 32, first, 8);
        put(at + 40, last, 8);
        for (int i = 0; name[i] != 0; ++i) put(at + 56 + 2 * i, static_cast<std::uint16_t>(name[i]), 2);
    }

    Parsed<std::vector<Partition>> read(std::uint64_t window = 0) const {
        const std::uint64_t size = window != 0 ? window : bytes_.size();
        return read_partition_table(
            [this, size](std::uint64_t offset, std::span<std::byte> into) {
                if (offset + into.size() > size) return false;
                std::memcpy(into.data(), bytes_.data() + offset, into.size());
                return true;
            },
            size);
    }

    std::vector<std::byte> bytes_;
};

std::string error_of(const Parsed<std::vector<Partition>>& parsed) { return parsed ? "no error" : parsed.error(); }

TEST(PartitionTable, MbrPrimariesKeepTheirSlotNumbers) {
    Image image(8 << 20);
    image.boot_signature(0);
    image.mbr_entry(0, 0, 0x83, 2048, 2048);
    image.mbr_entry(0, 2, 0x07, 8192, 4096);
    const auto parsed = image.read();
    ASSERT_TRUE(parsed) << error_of(parsed);
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[0].label.number, 1u);
    EXPECT_EQ((*parsed)[0].offset_bytes, 2048u * 512);
    EXPECT_EQ((*parsed)[0].length_bytes, 2048u * 512);
    EXPECT_EQ((*parsed)[0].label.type, "0x83");
    EXPECT_EQ((*parsed)[1].label.number, 3u);
    EXPECT_EQ((*parsed)[1].label.scheme, "mbr");
}

TEST(PartitionTable, LogicalPartitionsFollowTheExtendedChainFromFive) {
    Image image(16 << 20);
    image.boot_signature(0);
    image.mbr_entry(0, 0, 0x83, 2048, 2048);
    image.mbr_entry(0, 1, 0x0F, 8192, 16384);  // extended: LBA 8192..24575
    // First record: a logical partition 2048 sectors in, a link to the next.
    image.boot_signature(8192 * 512);
    image.mbr_entry(8192 * 512, 0, 0x83, 2048, 1024);
    image.mbr_entry(8192 * 512, 1, 0x05, 4096, 4096);
    // Second record, at 8192 + 4096: one more logical partition, no link.
    image.boot_signature(12288 * 512);
    image.mbr_entry(12288 * 512, 0, 0x82, 2048, 1024);
    const auto parsed = image.read();
    ASSERT_TRUE(parsed) << error_of(parsed);
    ASSERT_EQ(parsed->size(), 3u);
    EXPECT_EQ((*parsed)[1].label.number, 5u);
    EXPECT_EQ((*parsed)[1].offset_bytes, (8192u + 2048) * 512);
    EXPECT_EQ((*parsed)[2].label.number, 6u);
    EXPECT_EQ((*parsed)[2].offset_bytes, (12288u + 2048) * 512);
    EXPECT_EQ((*parsed)[2].label.type, "0x82");
}

TEST(PartitionTable, AnExtendedChainThatLoopsIsAnError) {
    Image image(16 << 20);
    image.boot_signature(0);
    image.mbr_entry(0, 0, 0x05, 8192, 8192);
    image.boot_signature(8192 * 512);
    image.mbr_entry(8192 * 512, 1, 0x05, 0, 1);  // links to itself
    EXPECT_NE(error_of(image.read()).find("chain loops back to the record at byte 4194304"), std::string::npos);
}

TEST(PartitionTable, GptEntriesAreNumberedByEntryWithNames) {
    Image image(8 << 20);
    image.boot_signature(0);
    image.mbr_entry(0, 0, 0xEE, 1, 16383);
    image.gpt_entry(2, 0, 2048, 4095, u"boot");
    image.gpt_entry(2, 2, 4096, 8191, u"r\u00f6\u00f6t \U0001F600");
    image.gpt_header(1, 16383, 2, 128);
    const auto parsed = image.read();
    ASSERT_TRUE(parsed) << error_of(parsed);
    ASSERT_EQ(parsed->size(), 2u);
    EXPECT_EQ((*parsed)[0].label.number, 1u);
    EXPECT_EQ((*parsed)[0].label.name, "boot");
    EXPECT_EQ((*parsed)[0].label.type, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
    EXPECT_EQ((*parsed)[1].label.number, 3u);
    EXPECT_EQ((*parsed)[1].label.name, "r\u00f6\u00f6t \U0001F600");
    EXPECT_EQ((*parsed)[1].length_bytes, 4096u * 512);
}

TEST(PartitionTable, ABadPrimaryGptFallsBackToTheBackup) {
    Image image(8 << 20);
    const std::uint64_t last = (8 << 20) / 512 - 1;
    image.gpt_entry(last - 32, 0, 2048, 4095, u"kept");
    image.gpt_header(last, 1, last - 32, 128);
    image.put_text(512, "EFI PART");  // a primary header with a wrong CRC
    const auto parsed = image.read();
    ASSERT_TRUE(parsed) << error_of(parsed);
    EXPECT_EQ((*parsed)[0].label.name, "kept");
}

TEST(PartitionTable, GptWithBadCrcsAndNoBackupIsAnError) {
    Image image(8 << 20);
    image.gpt_entry(2, 0, 2048, 4095, u"a");
    image.gpt_header(1, 16383, 2, 128);
    image.put(2 * 512 + 60, 0x41, 1);  // an entry byte changed after the CRC
    EXPECT_NE(error_of(image.read()).find("the GPT entries of the header at LBA 1 fail their CRC, and the backup is no better"),
              std::string::npos) << error_of(image.read());
}

// An entry array LBA so large that its byte offset wraps (2^55 sectors of
// 512 bytes is 2^64) must not be read as the array at the wrapped offset.
TEST(PartitionTable, AnEntryLbaThatWrapsIsPastTheEnd) {
    Image image(8 << 20);
    image.gpt_entry(2, 0, 2048, 4095, u"a");
    image.gpt_header(1, 16383, 2, 128);
    image.put(512 + 72, (std::uint64_t{1} << 55) + 2, 8);  // wraps to LBA 2, where the real entries are
    image.put(512 + 16, 0, 4);
    image.put(512 + 16, crc32({image.bytes_.data() + 512, 92}), 4);
    const auto parsed = image.read();
    EXPECT_NE(error_of(parsed).find("the GPT entries of the header at LBA 1 are past the end of the window"), std::string::npos)
        << error_of(parsed);
}

TEST(PartitionTable, APartitionPastTheEndOfTheWindowIsAnError) {
    Image image(8 << 20);
    image.gpt_entry(2, 0, 2048, 12000, u"big");
    image.gpt_header(1, 16383, 2, 128);
    EXPECT_NE(error_of(image.read(4 << 20)).find("GPT entry 1 (\"big\") spans bytes 1048576 to 6144512, past the end of the window (4194304 bytes)"),
              std::string::npos) << error_of(image.read(4 << 20));
    Image mbr(1 << 20);
    mbr.boot_signature(0);
    mbr.mbr_entry(0, 1, 0x83, 2048, 2048);
    EXPECT_NE(error_of(mbr.read()).find("MBR entry 2 spans bytes"), std::string::npos) << error_of(mbr.read());
}

TEST(PartitionTable, OverlappingPartitionsAreAnError) {
    Image image(8 << 20);
    image.boot_signature(0);
    image.mbr_entry(0, 0, 0x83, 2048, 4096);
    image.mbr_entry(0, 1, 0x83, 4096, 4096);
    EXPECT_EQ(error_of(image.read()), "partitions 1 and 2 overlap (bytes 2097152 to 3145728)");
}

TEST(PartitionTable, NoTableIsAnError) {
    Image image(1 << 20);
    EXPECT_NE(error_of(image.read()).find("no partition table"), std::string::npos);
    Image tiny(100);
    EXPECT_NE(error_of(tiny.read()).find("shorter than one sector"), std::string::npos);
}

TEST(PartitionTable, Crc32IsTheIeeeOne) {
    const char* text = "123456789";
    EXPECT_EQ(crc32({reinterpret_cast<const std::byte*>(text), 9}), 0xCBF43926u);
}

}  // namespace
}  // namespace mapfs
