// Turns the command line into one Config: TOML file or backing file, plus
// -w windows and -o options.
#pragma once

#include <optional>

#include "config/command_line.hpp"
#include "config/config.hpp"

namespace mapfs {

// True when SOURCE names a TOML configuration rather than a backing file.
bool is_config_file_name(const std::string& source);

// Errors go to `errors`; a config is returned whenever there is one to
// check further, so check `errors` as well. `source_text`: SOURCE's
// contents to use instead of reading the file.
std::optional<Config> build_config(const CommandLine& command_line, ConfigErrors& errors,
                                   const std::string* source_text = nullptr);

}  // namespace mapfs
