// mapfs: argument handling and start-up.
#include <malloc.h>

#include <iostream>
#include <string_view>

#include "base/log.hpp"
#include "config/command_line.hpp"
#include "daemon/client_commands.hpp"
#include "daemon/mount_point.hpp"
#include "daemon/reloader.hpp"
#include "daemon/service_notifier.hpp"
#include "daemon/session.hpp"
#include "daemon/status_command.hpp"
#include "fuse/filesystem.hpp"
#include "mapping/fault_guard.hpp"
#include "namespace/loader.hpp"
#include "version.hpp"

namespace {

constexpr int exit_usage = 2;

int report(const mapfs::LoadFailure& failure) {
    std::cerr << failure.message;
    return failure.exit_status;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string_view(argv[1]) == "status") return mapfs::run_status_command(argc, argv);
    if (argc >= 2 && std::string_view(argv[1]) == "reload") return mapfs::run_reload_command(argc, argv);
    if (argc >= 2 && std::string_view(argv[1]) == "cleanup") return mapfs::run_cleanup_command(argc, argv);
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
    if (!errors.empty()) {
        std::cerr << errors.to_string();
        return exit_usage;
    }
    auto config = mapfs::read_config(command_line);
    if (!config) return report(config.error());
    mapfs::log::setup(config->options.log_level, command_line.debug, command_line.foreground);
    if (config->mountpoint) {
        if (const std::string refusal = mapfs::prepare_mount_point(*config->mountpoint, config->options.overmount);
            !refusal.empty()) {
            std::cerr << refusal;
            return exit_usage;
        }
    }
    mapfs::install_fault_handler();
    auto loaded = mapfs::load(std::move(*config));
    if (!loaded) return report(loaded.error());

    mapfs::ServiceNotifier service;
    mapfs::Filesystem filesystem;
    filesystem.set_registry(loaded->registry);
    filesystem.mountpoint = loaded->mountpoint;
    filesystem.read_only = loaded->options.read_only;
    filesystem.on_ready = [&service, &filesystem] {
        service.ready(mapfs::status_line(filesystem));
        service.start_watchdog([&filesystem] { return filesystem.requests.progressed(); });
    };
    const mapfs::SessionSettings settings{loaded->mountpoint, loaded->options, command_line.foreground,
                                          command_line.debug, command_line.single_thread};
    // Parsing a large config leaves freed heap behind; give it back before
    // the daemon settles for a long life.
    ::malloc_trim(0);
    mapfs::Reloader reloader(filesystem, command_line, service);
    return mapfs::run_session(filesystem, service, reloader, settings);
}
