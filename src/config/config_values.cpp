#include "config/config_values.hpp"

#include <charconv>
#include <string>

namespace mapfs {

Parsed<mode_t> parse_mode(std::string_view text) {
    unsigned value = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
    if (text.empty() || status != std::errc() || end != text.data() + text.size())
        return unexpected("\"" + std::string(text) + "\" is not an octal mode such as 0640");
    if (value > 07777) return unexpected("mode \"" + std::string(text) + "\" has bits beyond 07777");
    return static_cast<mode_t>(value);
}

Parsed<std::uint32_t> parse_id(std::string_view text) {
    std::uint32_t value = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (text.empty() || status != std::errc() || end != text.data() + text.size() || value == UINT32_MAX)
        return unexpected("\"" + std::string(text) + "\" is not a numeric id");
    return value;
}

Parsed<bool> parse_bool(std::string_view text) {
    if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
    if (text == "false" || text == "no" || text == "off" || text == "0") return false;
    return unexpected("\"" + std::string(text) + "\" is not true or false");
}

Parsed<std::string> parse_log_level(std::string_view text) {
    for (const char* level : {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"})
        if (text == level) return std::string(text);
    return unexpected("unknown log level \"" + std::string(text) +
                      "\" (use trace, debug, info, warn, error, critical or off)");
}

}  // namespace mapfs
