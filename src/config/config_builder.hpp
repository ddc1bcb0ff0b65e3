// Turns the command line into one Config: TOML file or backing file, plus
// -w windows and -o options.
#pragma once

#include <optional>

#include "config/command_line.hpp"
#include "config/config.hpp"

namespace mapfs {

// True when SOURCE names a TOML configuration rather than a backing file.
bool is_config_file_name(const std::string& source);

// What SOURCE holds when it is a configuration file: its text, read by the
// caller (this layer makes no system calls), or why it could not be read.
struct SourceFile {
    std::optional<std::string> text;
    std::string unreadable_because;  // strerror, when there is no text
};

// Errors go to `errors`; a config is returned whenever there is one to
// check further, so check `errors` as well.
std::optional<Config> build_config(const CommandLine& command_line, const SourceFile& source, ConfigErrors& errors);

}  // namespace mapfs
