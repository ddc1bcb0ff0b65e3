#include "config/config_builder.hpp"

#include "config/config_toml.hpp"
#include "config/config_values.hpp"
#include "config/mount_options.hpp"
#include "config/window_spec.hpp"

namespace mapfs {
namespace {

std::string base_name(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const std::size_t slash = trimmed.rfind('/');
    return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

// SOURCE as a backing file: one region and one window showing it whole.
Config whole_file_config(const std::string& source) {
    Config config;
    const std::string name = base_name(source);
    const std::string where = "argument '" + source + "'";
    config.regions.push_back(RegionConfig{name, where, source, false, std::nullopt});
    WindowConfig window;
    window.name = name;
    window.where = where;
    window.region = name;
    config.windows.push_back(std::move(window));
    return config;
}

const RegionConfig* find_region(const Config& config, const std::string& name) {
    for (const RegionConfig& region : config.regions)
        if (region.name == name) return &region;
    return nullptr;
}

// Adds the region a -w spec brings (file= or anon) and returns its name.
// Specs naming the same file share one region; a region of the config file
// that happens to have the same name is another region, so the spec's gets
// a name of its own.
std::string add_spec_region(Config& config, RegionConfig region) {
    const std::string base = region.name;
    for (int suffix = 2;; ++suffix) {
        const RegionConfig* existing = find_region(config, region.name);
        if (existing == nullptr) break;
        if (region.file && existing->file == region.file && existing->where.rfind("argument -w", 0) == 0)
            return existing->name;
        region.name = base + "#" + std::to_string(suffix);
    }
    config.regions.push_back(region);
    return region.name;
}

void add_window_specs(const CommandLine& command_line, const std::string& source_region,
                      Config& config, ConfigErrors& errors) {
    for (const std::string& text : command_line.window_specs) {
        auto spec = parse_window_spec(text, errors);
        if (!spec) continue;
        if (spec->region) spec->window.region = add_spec_region(config, *spec->region);
        if (spec->window.region.empty()) {
            if (source_region.empty()) {
                errors.add(spec->window.where, "window \"" + spec->window.name + "\"", "region",
                           "no region: give file=PATH, anon,size=SIZE or region=NAME");
                continue;
            }
            spec->window.region = source_region;
        }
        config.windows.push_back(std::move(spec->window));
    }
}

// Which positional argument is the source and which the mount point.
bool place_positionals(const CommandLine& command_line, std::optional<std::string>& source,
                       std::optional<std::string>& mountpoint, ConfigErrors& errors) {
    source = command_line.source;
    mountpoint = command_line.mountpoint;
    if (!source) {
        errors.add("command line", "", "", "missing SOURCE and MOUNTPOINT (see mapfs --help)");
        return false;
    }
    if (!mountpoint && !is_config_file_name(*source)) {
        if (command_line.window_specs.empty()) {
            errors.add("command line", "", "", "missing MOUNTPOINT (see mapfs --help)");
            return false;
        }
        mountpoint = std::move(source);  // mapfs -w SPEC... MOUNTPOINT
        source.reset();
    }
    return true;
}

}  // namespace

bool is_config_file_name(const std::string& source) {
    return source.size() > 5 && source.compare(source.size() - 5, 5, ".toml") == 0;
}

std::optional<Config> build_config(const CommandLine& command_line, const SourceFile& source_file, ConfigErrors& errors) {
    std::optional<std::string> source;
    std::optional<std::string> mountpoint;
    if (!place_positionals(command_line, source, mountpoint, errors)) return std::nullopt;

    std::optional<Config> config;
    std::string source_region;
    if (source && is_config_file_name(*source)) {
        if (!source_file.text) {
            errors.add(*source, "", "", "cannot read the configuration file: " + source_file.unreadable_because);
            return std::nullopt;
        }
        config = load_toml_config(*source, *source_file.text, errors);
        if (!config) return std::nullopt;  // not TOML at all
    } else {
        config = source ? whole_file_config(*source) : Config{};
        if (source) source_region = config->regions.front().name;
    }
    if (mountpoint) {
        config->mountpoint = *mountpoint;
        config->mountpoint_where = "argument '" + *mountpoint + "'";
    }
    for (const std::string& list : command_line.option_lists)
        apply_mount_options(list, "argument -o '" + list + "'", config->options, errors);
    add_window_specs(command_line, source_region, *config, errors);
    if (command_line.log_level) {
        const auto level = parse_log_level(*command_line.log_level);
        if (level) config->options.log_level = *level;
        else errors.add("argument --log-level", "", "", level.error());
    }
    return config;
}

}  // namespace mapfs
