#include "cli/status_command.hpp"

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "base/console.hpp"
#include "config/size.hpp"
#include "mapfs/status_report.hpp"

namespace mapfs {
namespace {

using Row = std::vector<std::string>;

void print_table(const std::vector<Row>& rows) {
    std::vector<std::size_t> widths;
    for (const Row& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], row[i].size());
        }
    for (const Row& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

// Per window: passed through or not, and why not.
void print_passthrough(const StatusReport& report) {
    std::cout << "\n";
    if (!report.passthrough_available) {
        std::cout << "passthrough: none, " << report.passthrough_unavailable_because << "\n";
        return;
    }
    std::vector<Row> rows{{"WINDOW", "PASSTHROUGH", "OPEN_PASSED_THROUGH", "WHY_NOT"}};
    for (const WindowStatus& window : report.windows)
        rows.push_back({window.name, window.passthrough ? "yes" : "no", std::to_string(window.passthrough_open_files),
                        window.passthrough_why_not});
    print_table(rows);
}

void print_report(const StatusReport& report) {
    char uptime[32];
    std::snprintf(uptime, sizeof uptime, "%.1f", report.uptime_seconds);
    std::cout << "mapfs " << report.version << " on " << report.mountpoint << ", pid " << report.pid << ", up " << uptime
              << " s\n";
    std::cout << "served over " << report.transport << "; ";
    if (report.failover == "supervisor" && report.supervisor_pid)
        std::cout << "supervisor pid " << *report.supervisor_pid;
    else if (report.failover == "systemd")
        std::cout << "systemd keeps the mount";
    else
        std::cout << "no failover";
    std::cout << ", " << report.takeovers << (report.takeovers == 1 ? " takeover" : " takeovers") << "\n\n";
    std::vector<Row> regions{{"REGION", "BACKING", "SIZE", "MAPPED", "RESIDENT"}};
    std::vector<std::string> notes;
    for (const RegionStatus& region : report.regions) {
        std::string resident = region.resident_bytes ? std::to_string(*region.resident_bytes) : "?";
        if (!region.resident_bytes) notes.push_back("? " + region.name + ": " + region.resident_unknown_because);
        regions.push_back({region.name, region.path.value_or("(anonymous)"), format_size(region.size_bytes),
                           std::to_string(region.mapped_bytes), resident});
    }
    print_table(regions);
    for (const std::string& note : notes) std::cout << note << "\n";
    std::cout << "\n";
    std::vector<Row> windows{{"WINDOW", "REGION", "OFFSET", "LENGTH", "ACCESS", "CACHE", "PAGES", "OPEN", "READS", "WRITES",
                              "BYTES_READ", "BYTES_WRITTEN", "ERRORS"}};
    bool counters_not_kept = false;
    for (const WindowStatus& window : report.windows) {
        // The kernel served passed-through opens itself: numbers mapfs
        // never saw would pass for an idle window.
        const auto counted = [&](std::uint64_t value) { return window.counters_kept ? std::to_string(value) : "-"; };
        counters_not_kept = counters_not_kept || !window.counters_kept;
        windows.push_back({window.name, window.region, std::to_string(window.offset_bytes), std::to_string(window.length_bytes),
                           window.access, window.cache, window.pages, std::to_string(window.open_handles),
                           counted(window.reads), counted(window.writes), counted(window.bytes_read),
                           counted(window.bytes_written), std::to_string(window.errors)});
    }
    print_table(windows);
    if (counters_not_kept) std::cout << "-: not kept, the kernel serves passed-through opens itself\n";
    print_passthrough(report);
    std::vector<Row> partitions{{"PARTITION", "NUMBER", "SCHEME", "TYPE", "NAME"}};
    for (const WindowStatus& window : report.windows) {
        if (!window.partition) continue;
        partitions.push_back({window.name, std::to_string(window.partition->number), window.partition->scheme,
                              window.partition->type, window.partition->name});
    }
    if (partitions.size() > 1) {
        std::cout << "\n";
        print_table(partitions);
    }
    if (!report.reloads.last_accepted) std::cout << "\nlast reload rejected:\n" << report.reloads.last_message;
}

}  // namespace

int run_status_command(int argc, const char* const* argv) {
    std::string directory;
    bool json = false;
    for (int i = 2; i < argc; ++i) {
        const std::string argument = argv[i];
        if (argument == "--json") json = true;
        else if (directory.empty()) directory = argument;
        else {
            console::error("mapfs status: unexpected argument '" + argument + "'\nusage: mapfs status MOUNTPOINT [--json]");
            return 2;
        }
    }
    if (directory.empty()) {
        console::error("usage: mapfs status MOUNTPOINT [--json]");
        return 2;
    }
    if (json) {
        std::FILE* file = std::fopen((directory + "/.mapfs/status").c_str(), "r");
        if (file == nullptr) {
            console::error("mapfs status: " + status_unreadable_because(directory, errno));
            return 2;
        }
        char buffer[65536];
        for (std::size_t count; (count = std::fread(buffer, 1, sizeof buffer, file)) > 0;) std::cout.write(buffer, static_cast<std::streamsize>(count));
        std::fclose(file);
        return 0;
    }
    std::string error;
    const auto report = read_status_report(directory, error);
    if (!report) {
        console::error("mapfs status: " + error);
        return error.find("not a mapfs mount") != std::string::npos ? 2 : 1;
    }
    print_report(*report);
    return 0;
}

}  // namespace mapfs
