// mapfs: the command, its subcommands, and who runs the server.
#include <iostream>
#include <string_view>

#include "base/console.hpp"
#include "config/command_line.hpp"
#include "cli/check_command.hpp"
#include "cli/client_commands.hpp"
#include "daemon/server.hpp"
#include "cli/status_command.hpp"
#include "takeover/supervisor.hpp"
#include "base/log.hpp"
#include "version.hpp"

int main(int argc, char** argv) {
    if (argc >= 2) {
        const std::string_view command = argv[1];
        if (command == "status") return mapfs::run_status_command(argc, argv);
        if (command == "reload") return mapfs::run_reload_command(argc, argv);
        if (command == "cleanup") return mapfs::run_cleanup_command(argc, argv);
        if (command == "upgrade") return mapfs::run_upgrade_command(argc, argv);
        if (command == "check") return mapfs::run_check_command(argc, argv);
    }
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
        mapfs::console::error(errors.to_string());
        return 2;
    }
    if (mapfs::supervision_wanted(command_line)) {
        const bool foreground = command_line.foreground || command_line.debug;
        mapfs::log::setup(command_line.log_level.value_or("info"), command_line.debug, foreground);
        return mapfs::run_supervisor(argv, foreground);
    }
    return mapfs::run_server(command_line, std::vector<std::string>(argv, argv + argc));
}
