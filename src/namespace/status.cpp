#include "namespace/status.hpp"

#include <sys/mman.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "fuse/filesystem.hpp"
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
        attr.st_mode = S_IFREG | 0444;
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

// Pages of `mapping` in memory, by mincore(2), in bounded steps so that a
// huge sparse mapping needs no huge vector.
std::uint64_t resident_bytes(const Mapping& mapping) {
    if (!mapping.mapped()) return 0;
    const std::size_t page = page_size();
    const std::size_t step_pages = 1 << 18;
    std::vector<unsigned char> flags(step_pages);
    std::uint64_t resident = 0;
    const auto bytes = mapping.bytes();
    for (std::size_t offset = 0; offset < bytes.size(); offset += step_pages * page) {
        const std::size_t length = std::min(bytes.size() - offset, step_pages * page);
        if (::mincore(bytes.data() + offset, length, flags.data()) != 0) continue;
        const std::size_t pages = (length + page - 1) / page;
        for (std::size_t i = 0; i < pages; ++i) resident += (flags[i] & 1) * page;
    }
    return resident;
}

struct RegionReport {
    const Region* region = nullptr;
    std::uint64_t mapped_bytes = 0;
    std::uint64_t resident_bytes = 0;
};

nlohmann::json window_report(const std::string& name, const Window& window) {
    const Window::Counters& counters = window.counters;
    return {{"name", name},
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
            {"errors", counters.errors.load(std::memory_order_relaxed)}};
}

// The full name of a window: its path from the root.
std::string path_of(const Registry& registry, InodeNumber ino) {
    std::string path;
    for (const Node* node = registry.find(ino); node != nullptr && ino != root_inode; node = registry.find(ino)) {
        path = path.empty() ? node->name : node->name + "/" + path;
        ino = node->parent;
    }
    return path;
}

}  // namespace

std::string status_json(const Filesystem& filesystem) {
    const auto registry = filesystem.current_registry();
    std::vector<RegionReport> regions;
    std::unordered_map<const Region*, std::size_t> region_index;
    nlohmann::json windows = nlohmann::json::array();
    for (const InodeNumber ino : registry->window_inodes()) {
        const Window& window = *registry->find(ino)->window;
        const auto [slot, added] = region_index.emplace(&window.region(), regions.size());
        if (added) {
            RegionReport report{&window.region()};
            for (const Access access : {Access::read, Access::write}) {
                report.mapped_bytes += window.region().view(access).length_bytes();
                report.resident_bytes += resident_bytes(window.region().view(access));
            }
            regions.push_back(report);
        }
        if (window.access() == Access::copy) {
            regions[slot->second].mapped_bytes += window.mapping().length_bytes();
            regions[slot->second].resident_bytes += resident_bytes(window.mapping());
        }
        windows.push_back(window_report(path_of(*registry, ino), window));
    }
    nlohmann::json region_list = nlohmann::json::array();
    for (const RegionReport& report : regions) {
        const Region& region = *report.region;
        region_list.push_back({{"name", region.name()},
                               {"path", region.anon() ? nlohmann::json(nullptr) : nlohmann::json(region.path())},
                               {"anonymous", region.anon()},
                               {"size", region.size_bytes()},
                               {"mapped_bytes", report.mapped_bytes},
                               {"resident_bytes", report.resident_bytes}});
    }
    const auto uptime = std::chrono::steady_clock::now() - filesystem.started;
    const nlohmann::json report{{"version", version},
                                {"mountpoint", filesystem.mountpoint},
                                {"uptime_seconds", std::chrono::duration<double>(uptime).count()},
                                {"regions", region_list},
                                {"windows", windows}};
    // A window name or path need not be UTF-8; JSON must be.
    return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace mapfs
