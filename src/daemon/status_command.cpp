#include "daemon/status_command.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "config/size.hpp"

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

std::string number(const nlohmann::json& value) { return std::to_string(value.get<std::uint64_t>()); }
std::string size(const nlohmann::json& value) { return format_size(value.get<std::uint64_t>()); }

void print_report(const nlohmann::json& report) {
    char uptime[32];
    std::snprintf(uptime, sizeof uptime, "%.1f", report.at("uptime_seconds").get<double>());
    std::cout << "mapfs " << report.at("version").get<std::string>() << " on "
              << report.at("mountpoint").get<std::string>() << ", up " << uptime << " s\n\n";
    std::vector<Row> regions{{"REGION", "BACKING", "SIZE", "MAPPED", "RESIDENT"}};
    for (const auto& region : report.at("regions")) {
        regions.push_back({region.at("name").get<std::string>(),
                           region.at("anonymous").get<bool>() ? "(anonymous)" : region.at("path").get<std::string>(),
                           size(region.at("size")), number(region.at("mapped_bytes")), number(region.at("resident_bytes"))});
    }
    print_table(regions);
    std::cout << "\n";
    std::vector<Row> windows{{"WINDOW", "REGION", "OFFSET", "LENGTH", "ACCESS", "CACHE", "PAGES", "OPEN", "READS", "WRITES",
                              "BYTES_READ", "BYTES_WRITTEN", "ERRORS"}};
    for (const auto& window : report.at("windows")) {
        windows.push_back({window.at("name").get<std::string>(), window.at("region").get<std::string>(),
                           number(window.at("offset")), number(window.at("length")), window.at("access").get<std::string>(),
                           window.at("cache").get<std::string>(), window.value("pages", std::string("lazy")),
                           number(window.at("open_handles")),
                           number(window.at("reads")), number(window.at("writes")), number(window.at("bytes_read")),
                           number(window.at("bytes_written")), number(window.at("errors"))});
    }
    print_table(windows);
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
            std::cerr << "mapfs status: unexpected argument '" << argument << "'\nusage: mapfs status MOUNTPOINT [--json]\n";
            return 2;
        }
    }
    if (directory.empty()) {
        std::cerr << "usage: mapfs status MOUNTPOINT [--json]\n";
        return 2;
    }
    std::ifstream file(directory + "/.mapfs/status");
    if (!file) {
        std::cerr << "mapfs status: " << directory << " is not a mapfs mount (no .mapfs/status)\n";
        return 2;
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (json) {
        std::cout << text.str();
        return 0;
    }
    try {
        print_report(nlohmann::json::parse(text.str()));
    } catch (const nlohmann::json::exception& error) {
        std::cerr << "mapfs status: cannot read the report: " << error.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace mapfs
