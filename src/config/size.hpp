// Human sizes: "4096", "64KiB", "1M", "0x1000" <-> bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.hpp"

namespace mapfs {

Parsed<std::uint64_t> parse_size(std::string_view text);
std::string format_size(std::uint64_t bytes);

}  // namespace mapfs
