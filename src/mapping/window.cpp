#include "mapping/window.hpp"

#include <algorithm>

namespace mapfs {

Window::Window(const ResolvedWindow& resolved, std::shared_ptr<const Region> region, std::byte* data,
               Mapping private_mapping)
    : name_(resolved.name),
      region_(std::move(region)),
      offset_bytes_(resolved.offset_bytes),
      length_bytes_(resolved.length_bytes),
      access_(resolved.access),
      cache_(resolved.cache),
      pages_(resolved.pages),
      mode_(resolved.mode),
      uid_(resolved.uid),
      gid_(resolved.gid),
      data_(data),
      private_mapping_(std::move(private_mapping)) {}

int Window::sync() const noexcept {
    // Only write windows of files have anything to write back.
    if (access_ != Access::write || region_->anon() || length_bytes_ == 0) return 0;
    const Mapping& view = region_->view(Access::write);
    return view.sync(static_cast<std::size_t>(offset_bytes_ - view.file_offset()), length_bytes_);
}

namespace {

// The file range that all windows of one region with `access` need mapped.
std::optional<PageSpan> view_extent(const Plan& plan, std::size_t region_index, Access access) {
    std::uint64_t start = UINT64_MAX;
    std::uint64_t end = 0;
    for (const ResolvedWindow& window : plan.windows) {
        if (window.region_index != region_index || window.access != access || window.length_bytes == 0) continue;
        start = std::min(start, window.offset_bytes);
        end = std::max(end, window.offset_bytes + window.length_bytes);
    }
    if (start >= end) return std::nullopt;
    return page_span(start, end - start, page_size());
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

}  // namespace

Result<std::vector<std::shared_ptr<Window>>> map_windows(Plan& plan) {
    std::vector<std::shared_ptr<const Region>> regions;
    for (std::size_t i = 0; i < plan.regions.size(); ++i) {
        auto region = Region::create(std::move(plan.regions[i]), view_extent(plan, i, Access::read),
                                     view_extent(plan, i, Access::write));
        if (!region) return unexpected(region.error());
        regions.push_back(std::move(*region));
    }
    std::vector<std::shared_ptr<Window>> windows;
    windows.reserve(plan.windows.size());
    for (const ResolvedWindow& resolved : plan.windows) {
        auto window = make_window(resolved, regions[resolved.region_index]);
        if (!window) return unexpected(window.error());
        windows.push_back(std::move(*window));
    }
    return windows;
}

}  // namespace mapfs
