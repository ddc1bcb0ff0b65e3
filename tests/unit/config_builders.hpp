// Regions and windows for tests, built the way a parsed config holds them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace mapfs::testing {

inline RegionConfig file_region(const std::string& name, const std::string& path) {
    RegionConfig region;
    region.name = name;
    region.where = "test.toml:region " + name;
    region.file = path;
    return region;
}

inline RegionConfig anon_region(const std::string& name, std::optional<std::uint64_t> size) {
    RegionConfig region;
    region.name = name;
    region.where = "test.toml:region " + name;
    region.anon = true;
    region.size_bytes = size;
    return region;
}

inline WindowConfig window_config(const std::string& name, const std::string& region, std::uint64_t offset = 0,
                                  std::optional<std::uint64_t> length = std::nullopt,
                                  std::optional<Access> access = std::nullopt) {
    WindowConfig window;
    window.name = name;
    window.where = "test.toml:window " + name;
    window.region = region;
    window.offset_bytes = offset;
    window.length_bytes = length;
    window.access = access;
    return window;
}

}  // namespace mapfs::testing
