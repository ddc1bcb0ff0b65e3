#include "namespace/loader.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <set>

#include "base/exit_status.hpp"
#include "base/log.hpp"
#include "config/config_builder.hpp"
#include "mapping/plan.hpp"
#include "config/size.hpp"
#include "mapping/map_windows.hpp"
#include "mapping/pages.hpp"
#include "namespace/namespace_changes.hpp"

namespace mapfs {
namespace {

// Logged before mapping, which takes the regions out of the plan.
void log_summary(const Plan& plan) {
    for (const OpenedRegion& region : plan.regions) {
        log::info("region {}: {} ({})", region.name, region.anon ? "anonymous memory" : region.path,
                  format_size(region.size_bytes));
    }
    // One line per window would flood the log for 100,000 of them.
    const std::size_t shown = std::min<std::size_t>(plan.windows.size(), 20);
    for (std::size_t i = 0; i < shown; ++i) {
        const ResolvedWindow& window = plan.windows[i];
        log::info("window {}: region {} offset {} length {} access {} cache {}", window.name,
                  plan.regions[window.region_index].name, window.offset_bytes, window.length_bytes,
                  to_string(window.access), to_string(window.cache));
    }
    if (plan.windows.size() > shown) log::info("... and {} more windows", plan.windows.size() - shown);
    if (plan.windows.empty()) log::warn("the configuration has no windows: the mount will be empty");
}

Ownership ownership_of(const MountOptions& options) {
    Ownership ownership;
    ownership.uid = options.uid.value_or(::getuid());
    ownership.gid = options.gid.value_or(::getgid());
    ownership.status_mode = options.status == StatusAccess::everyone ? 0444 : 0400;
    ::clock_gettime(CLOCK_REALTIME, &ownership.time);
    return ownership;
}

// The memfds of the running anonymous regions, so that a reload does not
// throw away what was written to them.
std::vector<KeptMemory> anonymous_memory_of(const std::vector<std::shared_ptr<Window>>& windows) {
    std::vector<KeptMemory> kept;
    for (const std::shared_ptr<Window>& window : windows) {
        const Region& region = window->region();
        const bool listed = std::any_of(kept.begin(), kept.end(), [&](const KeptMemory& m) { return m.fd == region.fd(); });
        if (region.anon() && !listed) kept.push_back({region.name(), region.fd(), region.configured_size_bytes()});
    }
    return kept;
}

// What a server that takes over brings: the numbers and times the kernel
// knows the nodes by.
struct Inherited {
    const InodeNumbering* numbering = nullptr;
    std::optional<std::timespec> time;
};

// Plans, maps and brings in the pages of what is new; `running` is empty at
// start-up.
Expected<Loaded, LoadFailure> build(Config config, const Registry* running, const Replanning& replanning,
                                    const Inherited& inherited = {}) {
    std::string source_text = config.source_text;
    ConfigErrors errors;
    auto plan = make_plan(std::move(config), errors, replanning);
    if (!plan || !errors.empty()) return unexpected(LoadFailure{exit_status::bad_configuration, errors.to_string()});
    log_summary(*plan);
    const std::vector<std::shared_ptr<Window>> previous = running != nullptr ? running->windows() : std::vector<std::shared_ptr<Window>>{};
    auto windows = map_windows(*plan, previous);
    if (!windows) {
        return unexpected(LoadFailure{exit_status::cannot_serve, "mapfs: " + windows.error().to_string() + "\n"});
    }
    const std::vector<bool> kept = kept_windows(*windows, previous);
    std::vector<std::shared_ptr<Window>> fresh;
    for (std::size_t i = 0; i < windows->size(); ++i)
        if (!kept[i]) fresh.push_back((*windows)[i]);
    if (std::string failures = bring_in_pages(fresh); !failures.empty()) return unexpected(LoadFailure{exit_status::cannot_serve, failures});
    // The numbers the kernel knows: the running registry's at a reload (as
    // they are before the settings below change), the previous server's at
    // a takeover.
    InodeNumbering running_numbers;
    if (running != nullptr) running_numbers = running->numbering();
    const InodeNumbering* numbers = running != nullptr ? &running_numbers : inherited.numbering;
    // Nothing can reject the reload any more: a kept window takes its new
    // mode, owner and cache mode, as chmod would (the kernel is told, see
    // namespace_changes.hpp).
    for (std::size_t i = 0; i < windows->size(); ++i)
        if (kept[i]) (*windows)[i]->apply_settings(plan->windows[i]);
    Loaded loaded;
    loaded.windows_kept = windows->size() - fresh.size();
    Ownership ownership = ownership_of(plan->options);
    // Unchanged windows keep the times the kernel has cached for them.
    if (running != nullptr) ownership.time = running->attributes(root_inode).st_mtim;
    if (inherited.time) ownership.time = *inherited.time;
    loaded.registry = std::make_shared<const Registry>(std::move(*windows), ownership, numbers);
    if (numbers != nullptr)
        loaded.changes = namespace_changes(*numbers, *loaded.registry, running != nullptr ? ChangeCause::reload : ChangeCause::takeover);
    loaded.mountpoint = plan->mountpoint;
    loaded.source_text = std::move(source_text);
    loaded.options = plan->options;
    return loaded;
}

}  // namespace

SourceFile read_source_file(const CommandLine& command_line) {
    SourceFile source;
    if (!command_line.source || !is_config_file_name(*command_line.source)) return source;
    std::ifstream file(*command_line.source, std::ios::binary);
    if (!file) {
        source.unreadable_because = std::strerror(errno);
        return source;
    }
    std::ostringstream text;
    text << file.rdbuf();
    source.text = text.str();
    return source;
}

Expected<Config, LoadFailure> read_config(const CommandLine& command_line, const std::string& mounted_on,
                                          const std::string* source_text) {
    ConfigErrors errors;
    const SourceFile source = source_text != nullptr ? SourceFile{*source_text, ""} : read_source_file(command_line);
    auto config = build_config(command_line, source, errors);
    if (!config) return unexpected(LoadFailure{exit_status::bad_configuration, errors.to_string()});
    if (config->options.fsname.empty()) config->options.fsname = command_line.source.value_or("mapfs");
    if (!errors.empty()) {
        // Check the rest too, so that one run reports every problem.
        make_plan(std::move(*config), errors, Replanning{{}, mounted_on});
        return unexpected(LoadFailure{exit_status::bad_configuration, errors.to_string()});
    }
    return std::move(*config);
}

Expected<std::string, LoadFailure> check_configuration(const CommandLine& command_line, const std::string& mounted_on) {
    auto config = read_config(command_line, mounted_on);
    if (!config) return unexpected(config.error());
    ConfigErrors errors;
    const auto plan = make_plan(std::move(*config), errors, Replanning{{}, mounted_on});
    if (!plan || !errors.empty()) return unexpected(LoadFailure{exit_status::bad_configuration, errors.to_string()});
    std::set<std::string> files;
    for (const OpenedRegion& region : plan->regions) files.insert(region.anon ? "anon:" + region.name : region.path);
    const auto counted = [](std::size_t count, const char* what) {
        return std::to_string(count) + " " + what + (count == 1 ? "" : "s");
    };
    return counted(files.size(), "region") + ", " + counted(plan->windows.size(), "window") + " on " + plan->mountpoint;
}

Expected<Loaded, LoadFailure> load(Config config) { return build(std::move(config), nullptr, {}); }

Expected<Loaded, LoadFailure> reload(Config config, const Registry& running, const std::string& mountpoint) {
    const std::vector<KeptMemory> kept = anonymous_memory_of(running.windows());
    return build(std::move(config), &running, Replanning{kept, mountpoint});
}

Expected<Loaded, LoadFailure> take_over(Config config, const Succession& succession) {
    return build(std::move(config), nullptr, Replanning{succession.kept, succession.mountpoint},
                 Inherited{&succession.numbering, succession.time});
}

}  // namespace mapfs
