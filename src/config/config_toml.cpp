#include "config/config_toml.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <cstdio>

#include "config/config_values.hpp"
#include "config/size.hpp"

namespace mapfs {
namespace {

const std::vector<std::string> top_keys{"mountpoint", "options", "region", "window"};
const std::vector<std::string> option_keys{"cache", "allow_other", "read_only", "log_level",
                                           "uid", "gid", "umask", "fsname", "transport", "status",
                                           "passthrough"};
const std::vector<std::string> region_keys{"name", "file", "anon", "size"};
const std::vector<std::string> window_keys{"name", "region", "offset", "length", "access",
                                           "mode", "uid", "gid", "cache", "pages", "partitions",
                                           "passthrough"};

std::string type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number with a fraction";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        default: return "a date or time";
    }
}

// Reads one parsed TOML document into a Config, reporting every problem
// with file:line.
class TomlReader {
public:
    TomlReader(std::string source, ConfigErrors& errors) : source_(std::move(source)), errors_(errors) {}

    std::optional<Config> read(const toml::table& root) {
        check_keys(root, top_keys, "", "");
        if (const toml::node* node = root.get("mountpoint")) {
            if (auto text = string_of(*node, "", "mountpoint")) {
                config_.mountpoint = *text;
                config_.mountpoint_where = where(*node);
            }
        }
        if (const toml::node* node = root.get("options")) read_options(*node);
        for_each_table(root, "region", [this](const toml::table& table) { read_region(table); });
        for_each_table(root, "window", [this](const toml::table& table) { read_window(table); });
        // Returned even after errors, so that checking it can report more.
        return std::move(config_);
    }

private:
    std::string where(const toml::node& node) const {
        return source_ + ":" + std::to_string(node.source().begin.line);
    }

    void fail(const toml::node& node, const std::string& subject, const std::string& field,
              const std::string& message) {
        errors_.add(where(node), subject, field, message);
    }

    void check_keys(const toml::table& table, const std::vector<std::string>& known,
                    const std::string& subject, const std::string& table_name) {
        for (const auto& [key, node] : table) {
            const std::string name(key.str());
            if (std::find(known.begin(), known.end(), name) != known.end()) continue;
            std::string message = "unknown key \"" + name + "\"" +
                                  (table_name.empty() ? "" : " in [" + table_name + "]");
            const std::string hint = closest_word(name, known);
            if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
            fail(node, subject, name, message);
        }
    }

    template <class Read>
    void for_each_table(const toml::table& root, const std::string& key, Read read) {
        const toml::node* node = root.get(key);
        if (node == nullptr) return;
        const toml::array* array = node->as_array();
        if (array == nullptr) {
            fail(*node, "", key, "must be an array of tables, written [[" + key + "]]");
            return;
        }
        for (const toml::node& element : *array) {
            if (const toml::table* table = element.as_table()) read(*table);
            else fail(element, "", key, "each entry must be a table, written [[" + key + "]]");
        }
    }

    std::optional<std::string> string_of(const toml::node& node, const std::string& subject,
                                         const std::string& field) {
        if (const auto* value = node.as_string()) return value->get();
        fail(node, subject, field, "must be a string, not " + type_name(node));
        return std::nullopt;
    }

    std::optional<bool> bool_of(const toml::node& node, const std::string& subject, const std::string& field) {
        if (const auto* value = node.as_boolean()) return value->get();
        fail(node, subject, field, "must be true or false, not " + type_name(node));
        return std::nullopt;
    }

    // An integer, or a string that the text parser reads (sizes, ids).
    template <class T>
    std::optional<T> number_of(const toml::node& node, const std::string& subject, const std::string& field,
                               Parsed<T> (*parse)(std::string_view)) {
        if (const auto* integer = node.as_integer()) {
            const std::int64_t value = integer->get();
            if (value < 0) {
                fail(node, subject, field, "must not be negative (" + std::to_string(value) + ")");
                return std::nullopt;
            }
            // Integers go through the same range checks as text.
            return checked(node, subject, field, parse(std::to_string(value)));
        }
        if (const auto* text = node.as_string()) return checked(node, subject, field, parse(text->get()));
        fail(node, subject, field, "must be an integer or a string, not " + type_name(node));
        return std::nullopt;
    }

    // Permission bits (mode, umask): a string ("644", "0644") or a TOML octal
    // integer (0o644). A decimal integer is refused rather than guessed at:
    // mode = 644 is the number 644, which as bits is --w----r-T.
    std::optional<mode_t> bits_of(const toml::node& node, const std::string& subject, const std::string& field,
                                  Parsed<mode_t> (*parse)(std::string_view)) {
        const auto* integer = node.as_integer();
        if (integer == nullptr) return number_of(node, subject, field, parse);
        const std::int64_t value = integer->get();
        // The format flags are a 2-bit field (hexadecimal is binary|octal).
        constexpr auto format = toml::value_flags::format_as_binary | toml::value_flags::format_as_octal |
                                toml::value_flags::format_as_hexadecimal;
        const bool octal = (integer->flags() & format) == toml::value_flags::format_as_octal;
        if (value < 0 || (!octal && value != 0)) {
            const std::string digits = std::to_string(value);
            const bool octal_digits = value >= 0 && digits.find_first_of("89") == std::string::npos;
            std::string message = "is the " + std::string(octal ? "" : "decimal ") + "number " + digits + ", not octal bits";
            if (octal_digits) message += "; write 0o" + digits + " or \"" + digits + "\"";
            else message += "; write it in octal, as 0o640 or \"640\"";
            fail(node, subject, field, message);
            return std::nullopt;
        }
        char text[24];
        std::snprintf(text, sizeof text, "%llo", static_cast<unsigned long long>(value));
        return checked(node, subject, field, parse(text));
    }

    template <class T>
    std::optional<T> checked(const toml::node& node, const std::string& subject, const std::string& field,
                             const Parsed<T>& parsed) {
        if (parsed) return *parsed;
        fail(node, subject, field, parsed.error());
        return std::nullopt;
    }

    template <class T>
    std::optional<T> word_of(const toml::node& node, const std::string& subject, const std::string& field,
                             Parsed<T> (*parse)(std::string_view)) {
        const auto text = string_of(node, subject, field);
        if (!text) return std::nullopt;
        return checked(node, subject, field, parse(*text));
    }

    void read_options(const toml::node& node) {
        const toml::table* table = node.as_table();
        if (table == nullptr) {
            fail(node, "", "options", "must be a table, written [options]");
            return;
        }
        check_keys(*table, option_keys, "", "options");
        MountOptions& options = config_.options;
        const std::string subject;
        for (const auto& [key, value] : *table) {
            const std::string field = "option \"" + std::string(key.str()) + "\"";
            if (key == "cache") assign(options.cache, word_of(value, subject, field, parse_cache_mode));
            else if (key == "allow_other") assign(options.allow_other, bool_of(value, subject, field));
            else if (key == "read_only") assign(options.read_only, bool_of(value, subject, field));
            else if (key == "log_level") assign(options.log_level, word_of(value, subject, field, parse_log_level));
            else if (key == "uid") assign(options.uid, number_of(value, subject, field, parse_id));
            else if (key == "gid") assign(options.gid, number_of(value, subject, field, parse_id));
            else if (key == "umask") assign(options.umask, bits_of(value, subject, field, parse_umask));
            else if (key == "fsname") assign(options.fsname, string_of(value, subject, field));
            else if (key == "transport") assign(options.transport, word_of(value, subject, field, parse_transport));
            else if (key == "status") assign(options.status, word_of(value, subject, field, parse_status_access));
            else if (key == "passthrough") assign(options.passthrough, word_of(value, subject, field, parse_passthrough));
        }
    }

    template <class Target, class Value>
    static void assign(Target& target, const std::optional<Value>& value) {
        if (value) target = *value;
    }

    std::string name_of(const toml::table& table, const std::string& kind) {
        const toml::node* node = table.get("name");
        if (node == nullptr) {
            fail(table, kind, "name", "is missing");
            return {};
        }
        return string_of(*node, kind, "name").value_or("");
    }

    void read_region(const toml::table& table) {
        RegionConfig region;
        region.where = where(table);
        region.name = name_of(table, "region");
        const std::string subject = "region \"" + region.name + "\"";
        check_keys(table, region_keys, subject, "region");
        if (const toml::node* node = table.get("file")) region.file = string_of(*node, subject, "file");
        if (const toml::node* node = table.get("anon")) assign(region.anon, bool_of(*node, subject, "anon"));
        if (const toml::node* node = table.get("size"))
            region.size_bytes = number_of(*node, subject, "size", parse_size);
        config_.regions.push_back(std::move(region));
    }

    void read_window(const toml::table& table) {
        WindowConfig window;
        window.where = where(table);
        window.name = name_of(table, "window");
        const std::string subject = "window \"" + window.name + "\"";
        check_keys(table, window_keys, subject, "window");
        if (const toml::node* node = table.get("region")) assign(window.region, string_of(*node, subject, "region"));
        else fail(table, subject, "region", "is missing (name the [[region]] this window views)");
        if (const toml::node* node = table.get("offset"))
            assign(window.offset_bytes, number_of(*node, subject, "offset", parse_size));
        if (const toml::node* node = table.get("length")) window.length_bytes = number_of(*node, subject, "length", parse_size);
        if (const toml::node* node = table.get("access")) window.access = word_of(*node, subject, "access", parse_access);
        if (const toml::node* node = table.get("cache")) window.cache = word_of(*node, subject, "cache", parse_cache_mode);
        if (const toml::node* node = table.get("pages")) window.pages = word_of(*node, subject, "pages", parse_page_mode);
        if (const toml::node* node = table.get("passthrough"))
            window.passthrough = word_of(*node, subject, "passthrough", parse_passthrough);
        if (const toml::node* node = table.get("mode")) window.mode = bits_of(*node, subject, "mode", parse_mode);
        if (const toml::node* node = table.get("uid")) window.uid = number_of(*node, subject, "uid", parse_id);
        if (const toml::node* node = table.get("gid")) window.gid = number_of(*node, subject, "gid", parse_id);
        if (const toml::node* node = table.get("partitions")) assign(window.partitions, bool_of(*node, subject, "partitions"));
        config_.windows.push_back(std::move(window));
    }

    std::string source_;
    ConfigErrors& errors_;
    Config config_;
};

// Paths in a config file are relative to the file, not to wherever mapfs
// was started (a service starts in /).
void resolve_relative_paths(Config& config, const std::filesystem::path& base) {
    auto resolve = [&](std::string& path) {
        if (!path.empty() && path.front() != '/') path = (base / path).lexically_normal().string();
    };
    if (config.mountpoint) resolve(*config.mountpoint);
    for (RegionConfig& region : config.regions)
        if (region.file) resolve(*region.file);
}

}  // namespace

std::optional<Config> parse_toml_config(std::string_view text, const std::string& source_name,
                                        ConfigErrors& errors) {
    try {
        const toml::table root = toml::parse(text, source_name);
        return TomlReader(source_name, errors).read(root);
    } catch (const toml::parse_error& error) {
        errors.add(source_name + ":" + std::to_string(error.source().begin.line), "", "",
                   "not valid TOML: " + std::string(error.description()));
        return std::nullopt;
    }
}

std::optional<Config> load_toml_config(const std::string& path, const std::string& text, ConfigErrors& errors) {
    auto config = parse_toml_config(text, path, errors);
    if (!config) return config;
    resolve_relative_paths(*config, std::filesystem::path(path).parent_path());
    config->source_text = text;
    return config;
}

}  // namespace mapfs
