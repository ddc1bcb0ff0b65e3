// The command line, parsed but not yet interpreted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config_error.hpp"

namespace mapfs {

struct CommandLine {
    std::optional<std::string> source;
    std::optional<std::string> mountpoint;
    std::vector<std::string> window_specs;
    std::vector<std::string> option_lists;  // each -o argument
    std::optional<std::string> log_level;
    bool foreground = false;
    bool debug = false;
    bool single_thread = false;
    bool help = false;
    bool version = false;
};

CommandLine parse_command_line(int argc, const char* const* argv, ConfigErrors& errors);

std::string usage_text(const std::string& program);

}  // namespace mapfs
