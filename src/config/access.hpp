// The access, cache and page modes of a window, and their names in
// configuration.
#pragma once

#include <string_view>

#include "base/expected.hpp"

namespace mapfs {

enum class Access { read, write, copy };
enum class CacheMode { automatic, none, keep };
// How a window's pages come into memory: on first touch, all at mount, or
// all at mount and locked there (mlock) for latency-critical use.
enum class PageMode { lazy, populate, lock };
// How requests reach the daemon: io_uring where the kernel offers it and no
// takeover needs /dev/fuse (auto), io_uring even then (uring), /dev/fuse.
enum class TransportChoice { automatic, io_uring, dev_fuse };

Parsed<Access> parse_access(std::string_view text);
Parsed<CacheMode> parse_cache_mode(std::string_view text);
Parsed<PageMode> parse_page_mode(std::string_view text);
Parsed<TransportChoice> parse_transport(std::string_view text);
std::string_view to_string(Access access) noexcept;
std::string_view to_string(CacheMode mode) noexcept;
std::string_view to_string(PageMode mode) noexcept;

}  // namespace mapfs
