// The access and cache modes of a window, and their names in configuration.
#pragma once

#include <string_view>

#include "mapfs/expected.hpp"

namespace mapfs {

enum class Access { read, write, copy };
enum class CacheMode { automatic, none, keep };

Parsed<Access> parse_access(std::string_view text);
Parsed<CacheMode> parse_cache_mode(std::string_view text);
std::string_view to_string(Access access) noexcept;
std::string_view to_string(CacheMode mode) noexcept;

}  // namespace mapfs
