#include "namespace/loader.hpp"

#include <time.h>
#include <unistd.h>

#include <cstring>

#include "config/config_builder.hpp"
#include "base/log.hpp"
#include "config/plan.hpp"
#include "config/size.hpp"
#include "mapping/pages.hpp"

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
}

Ownership ownership_of(const MountOptions& options) {
    Ownership ownership;
    ownership.uid = options.uid.value_or(::getuid());
    ownership.gid = options.gid.value_or(::getgid());
    ::clock_gettime(CLOCK_REALTIME, &ownership.time);
    return ownership;
}

}  // namespace

Expected<Config, LoadFailure> read_config(const CommandLine& command_line) {
    ConfigErrors errors;
    auto config = build_config(command_line, errors);
    if (!config) return unexpected(LoadFailure{2, errors.to_string()});
    if (config->options.fsname.empty()) config->options.fsname = command_line.source.value_or("mapfs");
    if (!errors.empty()) {
        // Check the rest too, so that one run reports every problem.
        make_plan(std::move(*config), errors);
        return unexpected(LoadFailure{2, errors.to_string()});
    }
    return std::move(*config);
}

Expected<Loaded, LoadFailure> map_config(Config config, InodeNumber first_inode,
                                         std::span<const KeptMemory> kept) {
    ConfigErrors errors;
    auto plan = make_plan(std::move(config), errors, kept);
    if (!plan || !errors.empty()) return unexpected(LoadFailure{2, errors.to_string()});
    log_summary(*plan);
    auto windows = map_windows(*plan);
    if (!windows) {
        return unexpected(LoadFailure{1, std::string("mapfs: cannot map the regions: ") +
                                             std::strerror(windows.error()) + "\n"});
    }
    std::string page_failures;
    for (const std::shared_ptr<Window>& window : *windows) page_failures += bring_in_pages(*window);
    if (!page_failures.empty()) return unexpected(LoadFailure{1, page_failures});
    Loaded loaded;
    loaded.registry = std::make_shared<const Registry>(std::move(*windows), ownership_of(plan->options), first_inode);
    loaded.mountpoint = plan->mountpoint;
    loaded.options = plan->options;
    return loaded;
}

}  // namespace mapfs
