#include "namespace/status.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <vector>

#include "version.hpp"

namespace mapfs {

bool is_status_inode(InodeNumber ino) noexcept {
    return ino == status_directory_inode || ino == status_file_inode;
}

InodeNumber status_lookup(InodeNumber parent, std::string_view name) noexcept {
    if (parent == root_inode && name == ".mapfs") return status_directory_inode;
    if (parent == status_directory_inode && name == "status") return status_file_inode;
    return 0;
}

struct stat status_attributes(InodeNumber ino, const Registry& registry) noexcept {
    struct stat attr = registry.attributes(root_inode);
    attr.st_ino = ino;
    if (ino == status_directory_inode) {
        attr.st_mode = S_IFDIR | 0555;
    } else {
        // Size 0: the report is made at open and served with direct I/O.
        attr.st_mode = S_IFREG | registry.ownership().status_mode;
        attr.st_nlink = 1;
    }
    return attr;
}

std::pair<const char*, InodeNumber> status_directory_entry(std::size_t index) noexcept {
    if (index == 0) return {".", status_directory_inode};
    if (index == 1) return {"..", root_inode};
    return {"status", status_file_inode};
}

namespace {

struct RegionReport {
    const Region* region = nullptr;
    std::uint64_t mapped_bytes = 0;
    std::uint64_t resident_bytes = 0;
    std::string why_unknown;  // set when resident_bytes could not be told

    void add(const Mapping& mapping, int fd, ResidencyMeter& meter, std::uint64_t length_bytes) {
        length_bytes = std::min<std::uint64_t>(length_bytes, mapping.length_bytes());
        mapped_bytes += length_bytes;
        const Residency residency = meter.measure(mapping, fd, length_bytes);
        if (residency.bytes) resident_bytes += *residency.bytes;
        else if (why_unknown.empty()) why_unknown = residency.why_unknown;
    }
};

nlohmann::json passthrough_report(const Window& window, PassthroughLink link) {
    const std::string why_not = passthrough_refusal(window, link);
    return {{"new_opens", why_not.empty()},
            {"why_not", why_not.empty() ? nlohmann::json(nullptr) : nlohmann::json(why_not)},
            {"open_files", window.passthrough_handles.load(std::memory_order_relaxed)}};
}

nlohmann::json window_report(const std::string& name, const Window& window, PassthroughLink link) {
    const Window::Counters& counters = window.counters;
    nlohmann::json report{{"name", name},
            {"region", window.region().name()},
            {"offset", window.offset_bytes()},
            {"length", window.length_bytes()},
            {"access", to_string(window.access())},
            {"cache", to_string(window.cache())},
            {"pages", to_string(window.pages())},
            {"open_handles", window.open_handles.load(std::memory_order_relaxed)},
            {"reads", counters.reads.load(std::memory_order_relaxed)},
            {"writes", counters.writes.load(std::memory_order_relaxed)},
            {"bytes_read", counters.bytes_read.load(std::memory_order_relaxed)},
            {"bytes_written", counters.bytes_written.load(std::memory_order_relaxed)},
            {"errors", counters.errors.load(std::memory_order_relaxed)},
            // Reads and writes of passed-through opens never reach mapfs.
            {"counters_kept", !window.served_by_kernel.load(std::memory_order_relaxed)},
            {"passthrough", passthrough_report(window, link)}};
    if (const auto& partition = window.partition()) {
        report["partition"] = {{"number", partition->number},
                               {"scheme", partition->scheme},
                               {"name", partition->name},
                               {"type", partition->type}};
    }
    return report;
}

}  // namespace

std::string_view to_string(Keeper keeper) noexcept {
    switch (keeper) {
        case Keeper::supervisor:
            return "supervisor";
        case Keeper::systemd:
            return "systemd";
        case Keeper::none:
            break;
    }
    return "none";
}

std::string status_json(const StatusContext& context) {
    const Registry& registry = *context.registry;
    ResidencyMeter fallback_meter;
    ResidencyMeter& meter = context.residency != nullptr ? *context.residency : fallback_meter;
    // One entry per file: after a reload two Region objects (two sets of
    // views) may map the same file.
    std::vector<RegionReport> regions;
    std::map<FileIdentity, std::size_t> region_index;
    std::set<const Region*> measured;
    nlohmann::json windows = nlohmann::json::array();
    for (const InodeNumber ino : registry.window_inodes()) {
        const Window& window = *registry.find(ino)->window;
        const auto [slot, added] = region_index.emplace(window.region().identity(), regions.size());
        if (added) regions.push_back(RegionReport{&window.region(), 0, 0, {}});
        if (measured.insert(&window.region()).second) {
            // A growable region's view reaches past its size: count what it has.
            const Region& region = window.region();
            const std::uint64_t in_use = region.growable_to() != 0 ? region.size_bytes() : UINT64_MAX;
            for (const Access access : {Access::read, Access::write})
                regions[slot->second].add(region.view(access), region.fd(), meter, in_use);
        }
        if (window.access() == Access::copy) regions[slot->second].add(window.mapping(), -1, meter, UINT64_MAX);
        windows.push_back(window_report(registry.path_of(ino), window, context.passthrough));
    }
    nlohmann::json region_list = nlohmann::json::array();
    for (const RegionReport& report : regions) {
        const Region& region = *report.region;
        nlohmann::json entry{{"name", region.name()},
                             {"path", region.anon() ? nlohmann::json(nullptr) : nlohmann::json(region.path())},
                             {"anonymous", region.anon()},
                             {"size", region.size_bytes()},
                             {"mapped_bytes", report.mapped_bytes},
                             {"resident_bytes", report.why_unknown.empty() ? nlohmann::json(report.resident_bytes) : nlohmann::json(nullptr)}};
        if (!report.why_unknown.empty()) entry["resident_unknown_because"] = report.why_unknown;
        region_list.push_back(std::move(entry));
    }
    const nlohmann::json report{{"version", version},
                                {"mountpoint", context.mountpoint},
                                {"uptime_seconds", context.uptime_seconds},
                                {"open_handles", context.open_handles},
                                {"pid", ::getpid()},
                                {"supervisor_pid", context.serving.supervisor != 0 ? nlohmann::json(context.serving.supervisor) : nlohmann::json(nullptr)},
                                {"failover", to_string(context.serving.keeper)},
                                {"takeovers", context.serving.takeovers},
                                {"resend", context.serving.resend},
                                {"transport", context.serving.transport},
                                {"ring_requests", context.serving.ring_requests},
                                {"command", {{"arguments", context.serving.arguments}, {"directory", context.serving.directory}}},
                                {"late_invalidations", context.late_invalidations},
                                {"passthrough", {{"available", context.passthrough == PassthroughLink::ready},
                                                 {"why_not", context.passthrough == PassthroughLink::ready
                                                                 ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(describe(context.passthrough))}}},
                                {"reloads", {{"count", context.reload.count},
                                             {"last_accepted", context.reload.accepted},
                                             {"last_message", context.reload.message}}},
                                {"regions", region_list},
                                {"windows", windows}};
    // A window name or path need not be UTF-8; JSON must be.
    return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace mapfs
