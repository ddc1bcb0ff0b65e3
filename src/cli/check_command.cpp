#include "cli/check_command.hpp"

#include <iostream>

#include "base/console.hpp"
#include "config/command_line.hpp"
#include "namespace/loader.hpp"

namespace mapfs {

int run_check_command(int argc, char** argv) {
    ConfigErrors errors;
    // The arguments after "check", as mapfs itself would take them.
    const CommandLine command_line = parse_command_line(argc - 1, argv + 1, errors);
    if (!errors.empty()) {
        console::error(errors.to_string());
        return 2;
    }
    const auto checked = check_configuration(command_line);
    if (!checked) {
        console::error(checked.error().message);
        return checked.error().exit_status;
    }
    std::cout << "mapfs: " << command_line.source.value_or("the command line") << ": valid: " << *checked << "\n";
    return 0;
}

}  // namespace mapfs
