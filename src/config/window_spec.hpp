// The -w/--window argument: 'NAME:key=value,key=value,flag'.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace mapfs {

struct WindowSpec {
    WindowConfig window;
    // A region the spec brings with it (file= or anon); none when it names
    // region= or means the SOURCE file.
    std::optional<RegionConfig> region;
};

// Parses one spec; errors go to `errors` and the result is then empty.
std::optional<WindowSpec> parse_window_spec(const std::string& spec, ConfigErrors& errors);

// Every key a -w spec knows, for --help and its test.
const std::vector<std::string>& window_spec_keys();

}  // namespace mapfs
