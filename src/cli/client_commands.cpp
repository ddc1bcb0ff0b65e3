#include "cli/client_commands.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <toml++/toml.h>
#include <vector>

#include "base/console.hpp"
#include "config/config_builder.hpp"
#include "base/expected.hpp"
#include "base/mount_table.hpp"
#include "takeover/unit_job.hpp"
#include "namespace/loader.hpp"
#include "cli/upgrade_all.hpp"
#include "mapfs/status_report.hpp"
#include "base/unique_fd.hpp"

namespace mapfs {
namespace {

struct Target {
    std::string argument;  // CONFIG.toml or MOUNTPOINT
    long pid = 0;          // --pid: only the mount this process serves (or supervises)
    std::string unit;      // --unit: the systemd unit whose ExecStopPost= this is
    std::string failed;    // --failed: the unit systemd gave up on (its OnFailure=)
};

// The mount points an argument may mean. A directory is itself. A config
// names its mount point, if it still parses (a reload may be about a
// broken one), and its mounts show it as their source (fsname defaults to
// the SOURCE argument).
std::vector<std::string> mount_points_for(const std::string& argument) {
    if (!is_config_file_name(argument)) return {argument};
    std::vector<std::string> found;
    const std::filesystem::path config = std::filesystem::absolute(argument).lexically_normal();
    try {
        const toml::table root = toml::parse_file(argument);
        if (const auto mountpoint = root["mountpoint"].value<std::string>()) {
            const std::filesystem::path path(*mountpoint);
            found.push_back((path.is_absolute() ? path : config.parent_path() / path).lexically_normal().string());
        }
    } catch (const toml::parse_error&) {
    }
    for (const std::string& source : {argument, config.string()})
        for (const std::string& where : mount_points_of("fuse.mapfs", source)) found.push_back(where);
    // Named by the file and found by its source alike: each once.
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

// The running mount the target means, with its report.
std::optional<std::pair<std::string, StatusReport>> find_mount(const Target& target, std::string& error) {
    for (const std::string& mountpoint : mount_points_for(target.argument)) {
        std::string ignored;
        auto report = read_status_report(mountpoint, ignored);
        if (!report) continue;
        const bool named = target.pid == 0 || report->pid == target.pid || report->supervisor_pid == target.pid;
        if (named) return std::make_pair(mountpoint, std::move(*report));
    }
    error = "no running mapfs mount for " + target.argument + (target.pid != 0 ? " served by pid " + std::to_string(target.pid) : "");
    return std::nullopt;
}

std::optional<Target> parse_target(const char* command, int argc, const char* const* argv) {
    Target target;
    for (int i = 2; i < argc; ++i) {
        const std::string argument = argv[i];
        if (argument == "--pid" && i + 1 < argc) target.pid = std::strtol(argv[++i], nullptr, 10);
        else if (argument == "--unit" && i + 1 < argc) target.unit = argv[++i];
        else if (argument == "--failed" && i + 1 < argc) target.failed = argv[++i];
        else if (target.argument.empty()) target.argument = argument;
        else target.argument.clear(), i = argc;
    }
    if (target.argument.empty()) {
        console::error(std::string("usage: mapfs ") + command + " CONFIG.toml|MOUNTPOINT [--pid PID] [--unit UNIT] [--failed UNIT]");
        return std::nullopt;
    }
    return target;
}

// The running mount a command's arguments name, or the exit status to end
// with (2: usage, 1: no such mount) once the reason is printed.
Expected<std::pair<std::string, StatusReport>, int> mount_named(const char* command, int argc, const char* const* argv) {
    const auto target = parse_target(command, argc, argv);
    if (!target) return unexpected(2);
    std::string error;
    auto mount = find_mount(*target, error);
    if (!mount) {
        console::error(std::string("mapfs ") + command + ": " + error);
        return unexpected(1);
    }
    return std::move(*mount);
}

// Checks the configuration the running server's command line names, in the
// directory it was started in: "" when it is valid (or cannot be told).
std::string configuration_rejected(const StatusReport& report, const std::string& mountpoint) {
    if (report.arguments.empty()) return "";
    std::vector<const char*> argv;
    for (const std::string& argument : report.arguments) argv.push_back(argument.c_str());
    ConfigErrors errors;
    const CommandLine command_line = parse_command_line(static_cast<int>(argv.size()), argv.data(), errors);
    if (!errors.empty()) return errors.to_string();
    const UniqueFd here(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!report.directory.empty() && ::chdir(report.directory.c_str()) != 0) return "";
    const auto checked = check_configuration(command_line, mountpoint);
    if (here.valid()) [[maybe_unused]] const int back = ::fchdir(here.get());
    return checked ? "" : checked.error().message;
}

}  // namespace

int run_reload_command(int argc, const char* const* argv) {
    const auto mount = mount_named("reload", argc, argv);
    if (!mount) return mount.error();
    const auto& [mountpoint, before] = *mount;
    if (::kill(static_cast<pid_t>(before.pid), SIGHUP) != 0) {
        console::error("mapfs reload: cannot signal pid " + std::to_string(before.pid) + ": " + std::strerror(errno));
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::string error;
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const auto now = read_status_report(mountpoint, error);
        if (!now || now->reloads.count <= before.reloads.count) continue;
        if (now->reloads.last_accepted) return 0;
        console::error("mapfs: reload of " + mountpoint + " rejected, the running configuration stays in force:\n" +
                       now->reloads.last_message);
        return 1;
    }
    console::error("mapfs reload: " + mountpoint + " did not report the reload within 120 s");
    return 1;
}

// ExecStopPost= runs after every end of the server. After a stop the mount
// must go; after a crash or a restart the next server takes it over, and
// asking the mount anything would wait for that server.
int run_cleanup_command(int argc, const char* const* argv) {
    const auto target = parse_target("cleanup", argc, argv);
    if (!target) return 2;
    const char* result = std::getenv("SERVICE_RESULT");
    const UnitIntent intent = target->unit.empty() ? UnitIntent::unknown : unit_intent(target->unit, result != nullptr ? result : "");
    int status = 0;
    for (const std::string& mountpoint : mount_points_for(target->argument)) {
        const std::vector<MountEntry> mounts = mounts_at(mountpoint);
        if (mounts.empty() || mounts.back().type.rfind("fuse", 0) != 0) continue;
        if (intent == UnitIntent::restart) {
            console::info("mapfs cleanup: " + target->unit + " starts again: the mount on " + mountpoint +
                          " stays for the next server");
            continue;
        }
        // Stopping for good: systemd still holds the connection, so the
        // mount would not say it is dead; it is ours and must go.
        const bool stopping = intent == UnitIntent::stop && mounts.back().type == "fuse.mapfs";
        if (!stopping) {
            // After a failure systemd lets go of the stored connection as
            // the unit fails: a moment later the mount is dead.
            FuseMountState state = probe_fuse_mount(mountpoint, std::chrono::seconds(2));
            for (int tries = 0; state == FuseMountState::hung && !target->failed.empty() && tries < 3; ++tries)
                state = probe_fuse_mount(mountpoint, std::chrono::seconds(2));
            if (state == FuseMountState::answers) continue;
            if (state == FuseMountState::hung) {
                console::warning("mapfs cleanup: the mount on " + mountpoint + " does not answer (its server is stopped or "
                                 "being replaced); not detached (fusermount3 -uz " + mountpoint + " forces it)");
                continue;
            }
        }
        if (detach_mount(mountpoint)) {
            if (!target->failed.empty())
                console::error("mapfs cleanup: " + target->failed + " failed for good (systemd gave up restarting it); "
                               "detached the dead mount on " + mountpoint + ": clients get ENOENT from it, no longer "
                               "\"Transport endpoint is not connected\"; systemctl start " + target->failed + " mounts it again");
            else
                console::info("mapfs cleanup: detached the " + std::string(stopping ? "" : "dead ") + "mount on " + mountpoint);
        } else {
            console::error("mapfs cleanup: cannot detach the mount on " + mountpoint);
            status = 1;
        }
    }
    return status;
}

int run_upgrade_command(int argc, const char* const* argv) {
    if (argc == 3 && std::string_view(argv[2]) == "--all") return run_upgrade_all();
    const auto mount = mount_named("upgrade", argc, argv);
    if (!mount) return mount.error();
    const auto& [mountpoint, before] = *mount;
    if (before.failover == "systemd") {
        console::error("mapfs upgrade: " + mountpoint + " is served by a systemd service, which keeps the mount: " +
                       "systemctl restart " + unit_of_pid(static_cast<pid_t>(before.pid)) + " takes it over with the installed binary");
        return 1;
    }
    if (!before.supervisor_pid) {
        console::error("mapfs upgrade: nothing keeps the mount on " + mountpoint + " for a new server (it was started " +
                       "with -o nosupervisor or under another service manager)");
        return 1;
    }
    // A new server would serve the last good configuration rather than a
    // rejected one; the person asking hears why now, and nothing changes.
    if (const std::string rejected = configuration_rejected(before, mountpoint); !rejected.empty()) {
        console::error("mapfs upgrade: the configuration " + mountpoint + " would be served from is rejected; nothing "
                       "was changed (mend it, then upgrade):\n" + rejected);
        return 2;
    }
    if (::kill(static_cast<pid_t>(*before.supervisor_pid), SIGUSR1) != 0) {
        console::error("mapfs upgrade: cannot signal the supervisor (pid " + std::to_string(*before.supervisor_pid) + "): " +
                       std::strerror(errno));
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string error;
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const auto now = read_status_report(mountpoint, error);
        if (!now || now->pid == before.pid || now->takeovers <= before.takeovers) continue;
        std::cout << "mapfs: " << mountpoint << ": pid " << before.pid << " handed the mount over to pid " << now->pid
                  << " (mapfs " << now->version << ")\n";
        return 0;
    }
    console::error("mapfs upgrade: " + mountpoint + " was not taken over within 60 s");
    return 1;
}

}  // namespace mapfs
