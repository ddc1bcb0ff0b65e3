// The TOML configuration file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace mapfs {

// Reads a config from TOML text; `source_name` names it in messages. Errors
// go to `errors`; the config is still returned unless the text is not TOML,
// so that later checks can report their problems in the same run.
std::optional<Config> parse_toml_config(std::string_view text, const std::string& source_name,
                                        ConfigErrors& errors);
// The configuration file at `path`, whose contents are `text` (read by the
// caller: this layer makes no system calls; or the last good configuration
// a takeover was handed), relative paths resolved from its directory.
std::optional<Config> load_toml_config(const std::string& path, const std::string& text, ConfigErrors& errors);

}  // namespace mapfs
