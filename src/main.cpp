// mapfs: argument handling and start-up.
#include <malloc.h>

#include <ctime>
#include <iostream>

#include "mapfs/command_line.hpp"
#include "mapfs/config_builder.hpp"
#include "mapfs/fault_guard.hpp"
#include "mapfs/filesystem.hpp"
#include "mapfs/log.hpp"
#include "mapfs/plan.hpp"
#include "mapfs/session.hpp"
#include "mapfs/size.hpp"
#include "version.hpp"

namespace {

constexpr int exit_usage = 2;
constexpr int exit_system = 1;

int report(const mapfs::ConfigErrors& errors) {
    std::cerr << errors.to_string();
    return exit_usage;
}

// Logged before mapping, which takes the regions out of the plan.
void log_summary(const mapfs::Plan& plan) {
    for (const mapfs::OpenedRegion& region : plan.regions) {
        mapfs::log::info("region {}: {} ({})", region.name, region.anon ? "anonymous memory" : region.path,
                         mapfs::format_size(region.size_bytes));
    }
    // One line per window would flood the log for 100,000 of them.
    const std::size_t shown = std::min<std::size_t>(plan.windows.size(), 20);
    for (std::size_t i = 0; i < shown; ++i) {
        const mapfs::ResolvedWindow& window = plan.windows[i];
        mapfs::log::info("window {}: region {} offset {} length {} access {} cache {}", window.name,
                         plan.regions[window.region_index].name, window.offset_bytes, window.length_bytes,
                         mapfs::to_string(window.access), mapfs::to_string(window.cache));
    }
    if (plan.windows.size() > shown) mapfs::log::info("... and {} more windows", plan.windows.size() - shown);
}

std::string default_fsname(const mapfs::CommandLine& command_line) {
    return command_line.source.value_or("mapfs");
}

}  // namespace

int main(int argc, char** argv) {
    mapfs::ConfigErrors errors;
    const mapfs::CommandLine command_line = mapfs::parse_command_line(argc, argv, errors);
    if (command_line.help) {
        std::cout << mapfs::usage_text("mapfs");
        return 0;
    }
    if (command_line.version) {
        std::cout << "mapfs " << mapfs::version << "\n";
        return 0;
    }
    if (!errors.empty()) return report(errors);
    auto config = mapfs::build_config(command_line, errors);
    if (!config) return report(errors);
    // Checked even when building found errors: one run reports them all.
    if (config->options.fsname.empty()) config->options.fsname = default_fsname(command_line);
    mapfs::log::setup(config->options.log_level, command_line.debug);
    if (config->options.detach_stale && config->mountpoint) mapfs::detach_stale_mount(*config->mountpoint);
    auto plan = mapfs::make_plan(std::move(*config), errors);
    if (!plan || !errors.empty()) return report(errors);

    log_summary(*plan);
    mapfs::install_fault_handler();
    auto windows = mapfs::map_windows(*plan);
    if (!windows) {
        mapfs::log::error("cannot map the regions: {}", std::strerror(windows.error()));
        return exit_system;
    }

    mapfs::Ownership ownership;
    ownership.uid = plan->options.uid.value_or(::getuid());
    ownership.gid = plan->options.gid.value_or(::getgid());
    ::clock_gettime(CLOCK_REALTIME, &ownership.time);
    mapfs::ServiceNotifier notifier;
    mapfs::Filesystem filesystem;
    filesystem.notifier = &notifier;
    filesystem.mountpoint = plan->mountpoint;
    filesystem.registry = std::make_shared<const mapfs::Registry>(std::move(*windows), ownership);
    filesystem.read_only = plan->options.read_only;

    mapfs::SessionSettings settings{plan->mountpoint, plan->options, command_line.foreground,
                                    command_line.debug, command_line.single_thread};
    // Parsing a large config leaves freed heap behind; give it back before
    // the daemon settles for a long life.
    plan.reset();
    config.reset();
    ::malloc_trim(0);
    return mapfs::run_session(filesystem, settings) == 0 ? 0 : exit_system;
}
