#include "mapping/map_windows.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace mapfs {
namespace {

FileIdentity identity_of(int fd) {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return {};
    return {info.st_dev, info.st_ino};
}

// The file range that the windows of one region with `access` need mapped,
// leaving out the windows already `kept`.
std::optional<PageSpan> view_extent(const Plan& plan, std::size_t region_index, Access access,
                                    const std::vector<std::shared_ptr<Window>>& kept) {
    std::uint64_t start = UINT64_MAX;
    std::uint64_t end = 0;
    for (std::size_t i = 0; i < plan.windows.size(); ++i) {
        const ResolvedWindow& window = plan.windows[i];
        if (kept[i] || window.region_index != region_index || window.access != access || window.length_bytes == 0) continue;
        start = std::min(start, window.offset_bytes);
        end = std::max(end, window.offset_bytes + window.length_bytes);
    }
    if (start >= end) return std::nullopt;
    return page_span(start, end - start, page_size());
}

// Anonymous memory may grow when exactly one window shows it whole: its view
// is then mapped this far (address space only; no memory until used).
constexpr std::uint64_t growable_reserve = std::uint64_t{1} << 40;

// The size the region's view is mapped to so that it can grow, or 0.
std::uint64_t growable_to(const Plan& plan, std::size_t region_index) {
    const OpenedRegion& region = plan.regions[region_index];
    if (!region.anon) return 0;
    const ResolvedWindow* only = nullptr;
    for (const ResolvedWindow& window : plan.windows) {
        if (window.region_index != region_index) continue;
        if (only != nullptr) return 0;
        only = &window;
    }
    if (only == nullptr || only->access == Access::copy || only->offset_bytes != 0 || only->length_bytes != region.size_bytes)
        return 0;
    return std::min(max_anon_region_bytes, std::max(growable_reserve, 2 * region.size_bytes));
}

bool covers(const Region& region, Access access, const std::optional<PageSpan>& extent) {
    return !extent || region.view_covers(access, extent->file_offset, extent->file_offset + extent->length);
}

// An earlier region of `file` whose views hold both extents, or null.
std::shared_ptr<const Region> reusable_region(std::span<const std::shared_ptr<Window>> previous, const FileIdentity& file,
                                              const std::optional<PageSpan>& read, const std::optional<PageSpan>& write) {
    for (const std::shared_ptr<Window>& window : previous) {
        const Region& region = window->region();
        if (region.identity() == file && covers(region, Access::read, read) && covers(region, Access::write, write))
            return window->shared_region();
    }
    return nullptr;
}

Result<std::shared_ptr<Window>> make_window(const ResolvedWindow& resolved,
                                            const std::shared_ptr<const Region>& region) {
    if (resolved.length_bytes == 0) return std::make_shared<Window>(resolved, region, nullptr, Mapping{});
    if (resolved.access != Access::copy)
        return std::make_shared<Window>(resolved, region, region->view_address(resolved.access, resolved.offset_bytes),
                                        Mapping{});
    const auto span = page_span(resolved.offset_bytes, resolved.length_bytes, page_size());
    if (!span) return unexpected(EOVERFLOW);
    auto mapping = region->map_private(*span);
    if (!mapping) return unexpected(mapping.error());
    std::byte* data = mapping->bytes().data() + span->lead;
    return std::make_shared<Window>(resolved, region, data, std::move(*mapping));
}

// What usually stands behind an errno of mmap(MAP_SHARED) on a file that
// opened fine.
std::string likely_cause(int error) {
    switch (error) {
        case ENODEV:
            return "its file system cannot map files shared (a FUSE mount with direct I/O, such as glusterfs with "
                   "direct-io-mode=enable, or a mount without mmap support)";
        case ENOMEM:
            return "not enough address space or memory (ulimit -v, vm.max_map_count)";
        case EACCES:
            return "the file is not open for the access the windows ask (a read-only mount or file)";
        case EAGAIN:
            return "the pages could not be locked (RLIMIT_MEMLOCK)";
        default:
            return {};
    }
}

}  // namespace

std::string MapFailure::to_string() const {
    std::string text = "cannot map region '" + region + "'";
    if (!path.empty()) text += " (" + path + ")";
    text += ": ";
    text += std::strerror(error);
    if (std::string cause = likely_cause(error); !cause.empty()) text += "; " + cause;
    return text;
}

Expected<std::vector<std::shared_ptr<Window>>, MapFailure> map_windows(Plan& plan,
                                                                        std::span<const std::shared_ptr<Window>> previous) {
    std::vector<FileIdentity> files;
    for (const OpenedRegion& region : plan.regions) files.push_back(identity_of(region.fd.get()));
    std::unordered_map<std::string_view, const std::shared_ptr<Window>*> previous_by_name;
    for (const std::shared_ptr<Window>& window : previous) previous_by_name.emplace(window->name(), &window);

    std::vector<std::shared_ptr<Window>> windows(plan.windows.size());
    for (std::size_t i = 0; i < plan.windows.size(); ++i) {
        const ResolvedWindow& resolved = plan.windows[i];
        const auto found = previous_by_name.find(resolved.name);
        if (found != previous_by_name.end() && (*found->second)->shows(resolved, files[resolved.region_index]))
            windows[i] = *found->second;
    }
    std::vector<std::shared_ptr<const Region>> regions(plan.regions.size());
    for (std::size_t r = 0; r < plan.regions.size(); ++r) {
        auto read = view_extent(plan, r, Access::read, windows);
        auto write = view_extent(plan, r, Access::write, windows);
        regions[r] = reusable_region(previous, files[r], read, write);
        if (regions[r] != nullptr) continue;
        const std::uint64_t growable = growable_to(plan, r);
        if (growable != 0) (write ? write : read) = PageSpan{0, growable, 0};
        std::string name = plan.regions[r].name;
        std::string path = plan.regions[r].path;
        auto region = Region::create(std::move(plan.regions[r]), read, write, growable);
        if (!region) return unexpected(MapFailure{region.error(), std::move(name), std::move(path)});
        regions[r] = std::move(*region);
    }
    for (std::size_t i = 0; i < plan.windows.size(); ++i) {
        if (windows[i] != nullptr) continue;
        const Region& region = *regions[plan.windows[i].region_index];
        auto window = make_window(plan.windows[i], regions[plan.windows[i].region_index]);
        if (!window) return unexpected(MapFailure{window.error(), region.name(), region.path()});
        windows[i] = std::move(*window);
    }
    return windows;
}

std::vector<bool> kept_windows(const std::vector<std::shared_ptr<Window>>& windows,
                               std::span<const std::shared_ptr<Window>> previous) {
    std::unordered_set<const Window*> earlier;
    for (const std::shared_ptr<Window>& window : previous) earlier.insert(window.get());
    std::vector<bool> kept;
    for (const std::shared_ptr<Window>& window : windows) kept.push_back(earlier.count(window.get()) != 0);
    return kept;
}

}  // namespace mapfs
