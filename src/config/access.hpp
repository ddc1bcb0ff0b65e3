// The access, cache and page modes of a window, and their names in
// configuration.
#pragma once

#include <string_view>

#include "base/expected.hpp"

namespace mapfs {

enum class Access { read, write, copy };
// auto: cached while open, dropped at every open; cto: kept at open while
// the backing file looks unchanged (close-to-open); none: direct I/O;
// keep: kept across opens.
enum class CacheMode { automatic, close_to_open, none, keep };
// How a window's pages come into memory: on first touch, all at mount, or
// all at mount and locked there (mlock) for latency-critical use.
enum class PageMode { lazy, populate, lock };
// How requests reach the daemon: io_uring where the kernel offers it and no
// takeover needs /dev/fuse (auto), io_uring even then (uring), /dev/fuse.
enum class TransportChoice { automatic, io_uring, dev_fuse };
// Who may read .mapfs/status: the mount's owner (and root), or everyone
// the mount lets in (it names backing files and shows every window's
// activity).
enum class StatusAccess { owner, everyone };
// Whether a window that is a whole file or a whole anonymous region may be
// served by the kernel itself (FUSE passthrough) where the kernel and
// mapfs's privileges allow (auto), or always by mapfs (off).
enum class PassthroughChoice { automatic, off };

Parsed<Access> parse_access(std::string_view text);
Parsed<CacheMode> parse_cache_mode(std::string_view text);
Parsed<PageMode> parse_page_mode(std::string_view text);
Parsed<TransportChoice> parse_transport(std::string_view text);
Parsed<StatusAccess> parse_status_access(std::string_view text);
Parsed<PassthroughChoice> parse_passthrough(std::string_view text);
std::string_view to_string(Access access) noexcept;
std::string_view to_string(CacheMode mode) noexcept;
std::string_view to_string(PageMode mode) noexcept;
std::string_view to_string(PassthroughChoice choice) noexcept;

}  // namespace mapfs
