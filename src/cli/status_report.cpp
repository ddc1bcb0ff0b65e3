// Reading the status report, for programs other than the daemon.
#include "mapfs/status_report.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mapfs {
namespace {

RegionStatus region_of(const nlohmann::json& entry) {
    RegionStatus region;
    region.name = entry.at("name").get<std::string>();
    if (!entry.at("path").is_null()) region.path = entry.at("path").get<std::string>();
    region.anonymous = entry.at("anonymous").get<bool>();
    region.size_bytes = entry.at("size").get<std::uint64_t>();
    region.mapped_bytes = entry.at("mapped_bytes").get<std::uint64_t>();
    if (!entry.at("resident_bytes").is_null()) region.resident_bytes = entry.at("resident_bytes").get<std::uint64_t>();
    region.resident_unknown_because = entry.value("resident_unknown_because", std::string());
    return region;
}

WindowStatus window_of(const nlohmann::json& entry) {
    WindowStatus window;
    window.name = entry.at("name").get<std::string>();
    window.region = entry.at("region").get<std::string>();
    window.offset_bytes = entry.at("offset").get<std::uint64_t>();
    window.length_bytes = entry.at("length").get<std::uint64_t>();
    window.access = entry.at("access").get<std::string>();
    window.cache = entry.at("cache").get<std::string>();
    window.pages = entry.value("pages", std::string("lazy"));
    window.open_handles = entry.at("open_handles").get<std::uint64_t>();
    window.reads = entry.at("reads").get<std::uint64_t>();
    window.writes = entry.at("writes").get<std::uint64_t>();
    window.bytes_read = entry.at("bytes_read").get<std::uint64_t>();
    window.bytes_written = entry.at("bytes_written").get<std::uint64_t>();
    window.errors = entry.at("errors").get<std::uint64_t>();
    window.counters_kept = entry.value("counters_kept", true);
    if (const auto passthrough = entry.find("passthrough"); passthrough != entry.end() && passthrough->is_object()) {
        window.passthrough = passthrough->value("new_opens", false);
        if (const auto why = passthrough->find("why_not"); why != passthrough->end() && why->is_string())
            window.passthrough_why_not = why->get<std::string>();
        window.passthrough_open_files = passthrough->value("open_files", std::uint64_t{0});
    }
    if (const auto partition = entry.find("partition"); partition != entry.end()) {
        window.partition = WindowStatus::Partition{partition->at("number").get<unsigned>(), partition->at("scheme").get<std::string>(),
                                                   partition->at("name").get<std::string>(), partition->at("type").get<std::string>()};
    }
    return window;
}

}  // namespace

std::optional<StatusReport> parse_status_report(std::string_view json, std::string& error) {
    try {
        const nlohmann::json root = nlohmann::json::parse(json);
        StatusReport report;
        report.version = root.at("version").get<std::string>();
        report.mountpoint = root.at("mountpoint").get<std::string>();
        report.pid = root.value("pid", std::int64_t{0});
        if (const auto supervisor = root.find("supervisor_pid"); supervisor != root.end() && supervisor->is_number())
            report.supervisor_pid = supervisor->get<std::int64_t>();
        report.failover = root.value("failover", std::string("none"));
        report.takeovers = root.value("takeovers", std::uint64_t{0});
        report.resend = root.value("resend", false);
        report.transport = root.value("transport", std::string("/dev/fuse"));
        if (const auto command = root.find("command"); command != root.end() && command->is_object()) {
            report.arguments = command->value("arguments", std::vector<std::string>());
            report.directory = command->value("directory", std::string());
        }
        report.uptime_seconds = root.at("uptime_seconds").get<double>();
        report.open_handles = root.value("open_handles", std::uint64_t{0});
        report.late_invalidations = root.value("late_invalidations", std::uint64_t{0});
        if (const auto passthrough = root.find("passthrough"); passthrough != root.end() && passthrough->is_object()) {
            report.passthrough_available = passthrough->value("available", false);
            if (const auto why = passthrough->find("why_not"); why != passthrough->end() && why->is_string())
                report.passthrough_unavailable_because = why->get<std::string>();
        }
        if (const auto reloads = root.find("reloads"); reloads != root.end()) {
            report.reloads.count = reloads->at("count").get<std::uint64_t>();
            report.reloads.last_accepted = reloads->at("last_accepted").get<bool>();
            report.reloads.last_message = reloads->at("last_message").get<std::string>();
        }
        for (const auto& region : root.at("regions")) report.regions.push_back(region_of(region));
        for (const auto& window : root.at("windows")) report.windows.push_back(window_of(window));
        return report;
    } catch (const nlohmann::json::exception& failure) {
        error = std::string("cannot read the report: ") + failure.what();
        return std::nullopt;
    }
}

std::optional<StatusReport> read_status_report(const std::string& mountpoint, std::string& error) {
    const std::string path = mountpoint + "/.mapfs/status";
    std::ifstream file(path);
    if (!file) {
        error = status_unreadable_because(mountpoint, errno);
        return std::nullopt;
    }
    std::ostringstream text;
    text << file.rdbuf();
    return parse_status_report(text.str(), error);
}

std::string status_unreadable_because(const std::string& mountpoint, int error) {
    const std::string path = mountpoint + "/.mapfs/status";
    if (error == EACCES || error == EPERM) {
        return "permission denied reading " + path + ": the report is for the user who mounted " + mountpoint +
               " (and root). Run the command as that user; other users reach the mount at all only when it "
               "has allow_other, and read the report only when the configuration shares it "
               "(status = \"everyone\" in [options], -o status=everyone)";
    }
    if (error == ENOTCONN || error == ECONNABORTED)
        return mountpoint + ": the mount's server is gone (" + std::strerror(error) + "); mapfs cleanup or fusermount3 -uz " +
               mountpoint + " detaches it";
    return mountpoint + " is not a mapfs mount (no .mapfs/status: " + std::strerror(error) + ")";
}

}  // namespace mapfs
