#include "config/size.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <string>

namespace mapfs {
namespace {

struct Suffix {
    std::string_view text;
    unsigned shift;
};

// Binary multiples only: "K" and "KiB" both mean 1024, as in the man page.
constexpr std::array suffixes{
    Suffix{"", 0},    Suffix{"b", 0},    Suffix{"k", 10},   Suffix{"kib", 10},
    Suffix{"m", 20},  Suffix{"mib", 20}, Suffix{"g", 30},   Suffix{"gib", 30},
    Suffix{"t", 40},  Suffix{"tib", 40}, Suffix{"p", 50},   Suffix{"pib", 50},
    Suffix{"e", 60},  Suffix{"eib", 60},
};

std::string lowercase(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

}  // namespace

Parsed<std::uint64_t> parse_size(std::string_view text) {
    const std::string_view trimmed = trim(text);
    const std::string hint = " (use a byte count or a binary size such as 4096, 64KiB, 1MiB, 2GiB)";
    if (trimmed.empty()) return unexpected("empty size" + hint);
    if (trimmed.front() == '-') return unexpected("size " + quoted(text) + " is negative");

    int base = 10;
    std::string_view digits = trimmed;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        base = 16;
        digits.remove_prefix(2);
    }
    std::uint64_t number = 0;
    const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), number, base);
    if (status == std::errc::result_out_of_range) return unexpected("size " + quoted(text) + " is too large");
    if (status != std::errc() || end == digits.data()) return unexpected(quoted(text) + " is not a size" + hint);

    const std::string unit = lowercase(trim(std::string_view(end, digits.data() + digits.size() - end)));
    if (base == 16 && !unit.empty()) return unexpected(quoted(text) + " is not a size: a hexadecimal size takes no unit");
    for (const Suffix& suffix : suffixes) {
        if (unit != suffix.text) continue;
        if (suffix.shift > 0 && number > (UINT64_MAX >> suffix.shift))
            return unexpected("size " + quoted(text) + " is too large (more than 2^64 bytes)");
        return number << suffix.shift;
    }
    return unexpected(quoted(text) + " is not a size: unknown unit " + quoted(unit) + hint);
}

std::string format_size(std::uint64_t bytes) {
    static constexpr std::array<std::string_view, 7> units{"", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    std::size_t unit = 0;
    while (unit + 1 < units.size() && bytes != 0 && bytes % 1024 == 0) {
        bytes /= 1024;
        ++unit;
    }
    return std::to_string(bytes) + std::string(units[unit]);
}

}  // namespace mapfs
