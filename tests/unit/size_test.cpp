// parse_size / format_size: the size words of the -w specs and the TOML file.
#include "config/size.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using mapfs::format_size;
using mapfs::parse_size;

constexpr std::uint64_t KiB = std::uint64_t{1} << 10;
constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
constexpr std::uint64_t GiB = std::uint64_t{1} << 30;
constexpr std::uint64_t TiB = std::uint64_t{1} << 40;

std::uint64_t size_of(const std::string& text) {
    const auto parsed = parse_size(text);
    EXPECT_TRUE(parsed.has_value()) << "\"" << text << "\": " << (parsed ? "" : parsed.error());
    return parsed ? *parsed : ~std::uint64_t{0};
}

std::string error_of(const std::string& text) {
    const auto parsed = parse_size(text);
    EXPECT_FALSE(parsed.has_value()) << "\"" << text << "\" parsed as " << (parsed ? *parsed : 0);
    return parsed ? std::string() : parsed.error();
}

TEST(ParseSize, PlainIntegers) {
    EXPECT_EQ(size_of("0"), 0u);
    EXPECT_EQ(size_of("1"), 1u);
    EXPECT_EQ(size_of("4096"), 4096u);
    EXPECT_EQ(size_of("123456789"), 123456789u);
    EXPECT_EQ(size_of("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSize, BinarySuffixes) {
    EXPECT_EQ(size_of("64KiB"), 64 * KiB);
    EXPECT_EQ(size_of("1MiB"), MiB);
    EXPECT_EQ(size_of("100MiB"), 100 * MiB);
    EXPECT_EQ(size_of("2GiB"), 2 * GiB);
    EXPECT_EQ(size_of("1TiB"), TiB);
}

TEST(ParseSize, ShortSuffixesMeanTheSameBinaryMultiples) {
    EXPECT_EQ(size_of("64K"), 64 * KiB);
    EXPECT_EQ(size_of("1M"), MiB);
    EXPECT_EQ(size_of("2G"), 2 * GiB);
    EXPECT_EQ(size_of("1T"), TiB);
    EXPECT_EQ(size_of("3K"), size_of("3KiB"));
}

TEST(ParseSize, SuffixesAreCaseInsensitive) {
    EXPECT_EQ(size_of("64kib"), 64 * KiB);
    EXPECT_EQ(size_of("1mib"), MiB);
    EXPECT_EQ(size_of("2gib"), 2 * GiB);
    EXPECT_EQ(size_of("1tib"), TiB);
    EXPECT_EQ(size_of("8k"), 8 * KiB);
    EXPECT_EQ(size_of("1m"), MiB);
    EXPECT_EQ(size_of("1MIB"), MiB);
}

TEST(ParseSize, Hexadecimal) {
    EXPECT_EQ(size_of("0x1000"), 4096u);
    EXPECT_EQ(size_of("0X1000"), 4096u);
    EXPECT_EQ(size_of("0xff"), 255u);
    EXPECT_EQ(size_of("0xFFFFFFFFFFFFFFFF"), UINT64_MAX);
}

TEST(ParseSize, WhitespaceAroundAndBeforeTheUnit) {
    EXPECT_EQ(size_of("  4096  "), 4096u);
    EXPECT_EQ(size_of("\t1MiB\n"), MiB);
    EXPECT_EQ(size_of("64 KiB"), 64 * KiB);
}

TEST(ParseSize, EmptyIsAnError) {
    EXPECT_NE(error_of("").find("empty"), std::string::npos);
    EXPECT_NE(error_of("   ").find("empty"), std::string::npos);
}

TEST(ParseSize, NegativeIsAnError) {
    const std::string message = error_of("-1");
    EXPECT_NE(message.find("negative"), std::string::npos) << message;
    EXPECT_NE(message.find("-1"), std::string::npos) << message;
    error_of("-1MiB");
    error_of(" -0");
}

TEST(ParseSize, FractionsAreErrors) {
    const std::string message = error_of("1.5MiB");
    EXPECT_NE(message.find("1.5MiB"), std::string::npos) << message;
    error_of("0.5");
}

TEST(ParseSize, UnknownUnitIsAnError) {
    const std::string message = error_of("12XB");
    EXPECT_NE(message.find("12XB"), std::string::npos) << message;
    EXPECT_NE(message.find("unit"), std::string::npos) << message;
    error_of("12 MB?");
    error_of("1KiBB");
    error_of("1 2");
}

TEST(ParseSize, NotANumberIsAnError) {
    error_of("abc");
    error_of("MiB");
    error_of("0x");
    error_of("0xg");
    error_of("+5");
}

TEST(ParseSize, OverflowIsAnError) {
    EXPECT_NE(error_of("16EiB").find("too large"), std::string::npos);
    EXPECT_NE(error_of("99999999999999999999").find("too large"), std::string::npos);
    EXPECT_NE(error_of("0x10000000000000000").find("too large"), std::string::npos);
    EXPECT_NE(error_of("16777216TiB").find("too large"), std::string::npos);  // 2^24 * 2^40 = 2^64
    // Just below the limit still works.
    EXPECT_EQ(size_of("15EiB"), std::uint64_t{15} << 60);
    EXPECT_EQ(size_of("16777215TiB"), (std::uint64_t{16777215}) << 40);
}

TEST(ParseSize, HexadecimalTakesNoUnit) {
    const std::string message = error_of("0x10KiB");
    EXPECT_NE(message.find("hexadecimal"), std::string::npos) << message;
    error_of("0x1M");
}

TEST(FormatSize, UsesTheLargestExactUnit) {
    EXPECT_EQ(format_size(0), "0");
    EXPECT_EQ(format_size(1), "1");
    EXPECT_EQ(format_size(1000), "1000");
    EXPECT_EQ(format_size(1024), "1KiB");
    EXPECT_EQ(format_size(1536), "1536");
    EXPECT_EQ(format_size(64 * KiB), "64KiB");
    EXPECT_EQ(format_size(MiB), "1MiB");
    EXPECT_EQ(format_size(MiB + KiB), "1025KiB");
    EXPECT_EQ(format_size(2 * GiB), "2GiB");
    EXPECT_EQ(format_size(TiB), "1TiB");
    EXPECT_EQ(format_size(std::uint64_t{64} << 40), "64TiB");
    EXPECT_EQ(format_size(std::uint64_t{1} << 60), "1EiB");
    EXPECT_EQ(format_size(std::uint64_t{8} << 60), "8EiB");
    EXPECT_EQ(format_size(UINT64_MAX), "18446744073709551615");
}

TEST(FormatSize, RoundTripsThroughParseSize) {
    for (const std::uint64_t bytes :
         {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{4095}, std::uint64_t{4096}, 12345 * KiB,
          3 * MiB, MiB + 1, 7 * GiB, 5 * TiB, std::uint64_t{3} << 50, std::uint64_t{15} << 60,
          UINT64_MAX, UINT64_MAX - 1023}) {
        const std::string text = format_size(bytes);
        const auto parsed = parse_size(text);
        ASSERT_TRUE(parsed.has_value()) << text;
        EXPECT_EQ(*parsed, bytes) << text;
    }
}

TEST(FormatSize, ParseThenFormatIsCanonical) {
    EXPECT_EQ(format_size(size_of("1024K")), "1MiB");
    EXPECT_EQ(format_size(size_of("0x100000")), "1MiB");
    EXPECT_EQ(format_size(size_of("2048MiB")), "2GiB");
}

}  // namespace
