#include "config/access.hpp"

#include <string>

namespace mapfs {

Parsed<Access> parse_access(std::string_view text) {
    if (text == "read") return Access::read;
    if (text == "write") return Access::write;
    if (text == "copy") return Access::copy;
    return unexpected("unknown access \"" + std::string(text) + "\" (use read, write or copy)");
}

Parsed<CacheMode> parse_cache_mode(std::string_view text) {
    if (text == "auto") return CacheMode::automatic;
    if (text == "none") return CacheMode::none;
    if (text == "keep") return CacheMode::keep;
    if (text == "cto") return CacheMode::close_to_open;
    return unexpected("unknown cache mode \"" + std::string(text) + "\" (use auto, cto, none or keep)");
}

Parsed<StatusAccess> parse_status_access(std::string_view text) {
    if (text == "owner") return StatusAccess::owner;
    if (text == "everyone") return StatusAccess::everyone;
    return unexpected("unknown status access \"" + std::string(text) + "\" (use owner or everyone)");
}

Parsed<PassthroughChoice> parse_passthrough(std::string_view text) {
    if (text == "auto") return PassthroughChoice::automatic;
    if (text == "off") return PassthroughChoice::off;
    return unexpected("unknown passthrough choice \"" + std::string(text) + "\" (use auto or off)");
}

Parsed<TransportChoice> parse_transport(std::string_view text) {
    if (text == "auto") return TransportChoice::automatic;
    if (text == "uring" || text == "io_uring") return TransportChoice::io_uring;
    if (text == "dev" || text == "fuse") return TransportChoice::dev_fuse;
    return unexpected("unknown transport \"" + std::string(text) + "\" (use auto, uring or dev)");
}

Parsed<PageMode> parse_page_mode(std::string_view text) {
    if (text == "lazy") return PageMode::lazy;
    if (text == "populate") return PageMode::populate;
    if (text == "lock") return PageMode::lock;
    return unexpected("unknown page mode \"" + std::string(text) + "\" (use lazy, populate or lock)");
}

std::string_view to_string(Access access) noexcept {
    switch (access) {
        case Access::read: return "read";
        case Access::write: return "write";
        case Access::copy: return "copy";
    }
    return "?";
}

std::string_view to_string(CacheMode mode) noexcept {
    switch (mode) {
        case CacheMode::automatic: return "auto";
        case CacheMode::none: return "none";
        case CacheMode::keep: return "keep";
        case CacheMode::close_to_open: return "cto";
    }
    return "?";
}

std::string_view to_string(PageMode mode) noexcept {
    switch (mode) {
        case PageMode::lazy: return "lazy";
        case PageMode::populate: return "populate";
        case PageMode::lock: return "lock";
    }
    return "?";
}

std::string_view to_string(PassthroughChoice choice) noexcept {
    return choice == PassthroughChoice::off ? "off" : "auto";
}

}  // namespace mapfs
