// Value parsers shared by the TOML file and the -w/-o arguments.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"

namespace mapfs {

// A window's permission bits in octal: "0640", "640" or "0o640". setuid,
// setgid and sticky are refused: a window is data, never a program to run
// with another user's rights.
Parsed<mode_t> parse_mode(std::string_view text);
// Bits removed from default modes, in octal like a mode: "022", "0o027".
Parsed<mode_t> parse_umask(std::string_view text);
// A numeric user or group id.
Parsed<std::uint32_t> parse_id(std::string_view text);
// "true"/"false" and the usual spellings.
Parsed<bool> parse_bool(std::string_view text);

// trace, debug, info, warn (or warning), error, critical, off.
Parsed<std::string> parse_log_level(std::string_view text);
// The log levels, for --help and its test.
const std::vector<std::string>& log_level_names();

}  // namespace mapfs
