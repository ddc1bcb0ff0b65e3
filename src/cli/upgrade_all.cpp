#include "cli/upgrade_all.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/console.hpp"

namespace mapfs {
namespace {

constexpr std::string_view deleted_suffix = " (deleted)";

std::string exe_of(pid_t pid) {
    std::error_code error;
    const std::filesystem::path link = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", error);
    return error ? "" : link.string();
}

bool is_replaced(const std::string& exe) { return exe.ends_with(deleted_suffix); }

std::string without_deleted(const std::string& exe) {
    return is_replaced(exe) ? exe.substr(0, exe.size() - deleted_suffix.size()) : exe;
}

pid_t parent_of(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("PPid:", 0) == 0) return static_cast<pid_t>(std::strtol(line.c_str() + 5, nullptr, 10));
    return 0;
}

std::vector<pid_t> children_of(pid_t pid) {
    std::ifstream list("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<pid_t> children;
    for (pid_t child = 0; list >> child;) children.push_back(child);
    return children;
}

std::string command_line_of(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (char& c : text) if (c == '\0') c = ' ';
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

// Supervisors of servers started from `binary` (its path), where the
// supervisor or its server runs a file that has been replaced since: by
// supervisor pid, the server's pid.
std::map<pid_t, pid_t> supervisors_running_a_replaced(const std::string& binary) {
    std::map<pid_t, pid_t> found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", std::filesystem::directory_options::skip_permission_denied)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        const std::string exe = exe_of(pid);
        if (without_deleted(exe) != binary) continue;
        const pid_t parent = parent_of(pid);
        const std::string parent_exe = exe_of(parent);
        // A server's parent is its supervisor, running the same path.
        if (parent <= 1 || without_deleted(parent_exe) != binary) continue;
        if (is_replaced(exe) || is_replaced(parent_exe)) found[parent] = pid;
    }
    return found;
}

// The supervisor runs the installed binary, and so does a server other
// than the one it had.
bool moved(pid_t supervisor, pid_t old_server) {
    if (::kill(supervisor, 0) != 0 || is_replaced(exe_of(supervisor))) return false;
    for (const pid_t child : children_of(supervisor))
        if (child != old_server && !is_replaced(exe_of(child)) && !exe_of(child).empty()) return true;
    return false;
}

}  // namespace

int run_upgrade_all() {
    const std::string binary = without_deleted(exe_of(::getpid()));
    const std::map<pid_t, pid_t> supervisors = supervisors_running_a_replaced(binary);
    if (supervisors.empty()) {
        console::info("mapfs upgrade: no mapfs outside systemd runs a replaced " + binary);
        return 0;
    }
    std::map<pid_t, std::string> waiting;
    for (const auto& [supervisor, server] : supervisors) {
        const std::string what = "pid " + std::to_string(supervisor) + " (" + command_line_of(supervisor) + ")";
        if (::kill(supervisor, SIGUSR1) != 0) {
            console::error("mapfs upgrade: cannot signal the supervisor " + what);
            continue;
        }
        waiting.emplace(supervisor, what);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = waiting.size() == supervisors.size() ? 0 : 1;
    while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        for (auto it = waiting.begin(); it != waiting.end();) {
            if (!moved(it->first, supervisors.at(it->first))) {
                ++it;
                continue;
            }
            console::info("mapfs upgrade: " + it->second + " and its mount now run " + binary);
            it = waiting.erase(it);
        }
    }
    for (const auto& [supervisor, what] : waiting) {
        console::error("mapfs upgrade: " + what + " did not move to " + binary + " within 60 s");
        status = 1;
    }
    return status;
}

}  // namespace mapfs
