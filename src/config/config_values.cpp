#include "config/config_values.hpp"

#include <charconv>
#include <cstdio>
#include <string>

namespace mapfs {

namespace {

std::string fmt_octal(unsigned value) {
    char text[8];
    std::snprintf(text, sizeof text, "0%03o", value);
    return text;
}

}  // namespace

namespace {

// Octal digits, with an optional TOML-style 0o in front.
Parsed<unsigned> parse_octal(std::string_view text, const char* example) {
    const std::string_view digits = text.substr(0, 2) == "0o" ? text.substr(2) : text;
    unsigned value = 0;
    const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 8);
    if (digits.empty() || status != std::errc() || end != digits.data() + digits.size())
        return unexpected("\"" + std::string(text) + "\" is not an octal number such as " + example);
    return value;
}

}  // namespace

Parsed<mode_t> parse_mode(std::string_view text) {
    const auto value = parse_octal(text, "0640");
    if (!value) return unexpected(value.error());
    if (*value > 07777) return unexpected("mode \"" + std::string(text) + "\" has bits beyond 07777");
    if ((*value & 07000) != 0)
        return unexpected("mode \"" + std::string(text) +
                          "\" has setuid, setgid or sticky bits, which a window may not have (it is data, not a program); use " +
                          fmt_octal(*value & 0777));
    return static_cast<mode_t>(*value);
}

Parsed<mode_t> parse_umask(std::string_view text) {
    const auto value = parse_octal(text, "022");
    if (!value) return unexpected(value.error());
    if (*value > 0777) return unexpected("umask \"" + std::string(text) + "\" has bits beyond 0777");
    return static_cast<mode_t>(*value);
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

const std::vector<std::string>& log_level_names() {
    static const std::vector<std::string> names{"trace", "debug", "info", "warn", "error", "critical", "off"};
    return names;
}

Parsed<std::string> parse_log_level(std::string_view text) {
    if (text == "warning") return std::string(text);
    for (const std::string& level : log_level_names())
        if (text == level) return std::string(text);
    return unexpected("unknown log level \"" + std::string(text) +
                      "\" (use trace, debug, info, warn, error, critical or off)");
}

}  // namespace mapfs
