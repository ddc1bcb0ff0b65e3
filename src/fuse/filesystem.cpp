#include "fuse/filesystem.hpp"

namespace mapfs {

namespace {

std::string counted(std::size_t count, const char* singular, const char* plural) {
    return std::to_string(count) + " " + (count == 1 ? singular : plural);
}

}  // namespace

std::string status_line(const Filesystem& filesystem) {
    const auto registry = filesystem.current_registry();
    return counted(registry->region_count(), "region", "regions") + ", " +
           counted(registry->window_count(), "window", "windows") + " on " + filesystem.mountpoint;
}

StatusContext status_context_of(Filesystem& filesystem) {
    StatusContext context;
    context.registry = filesystem.current_registry();
    context.mountpoint = filesystem.mountpoint;
    context.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - filesystem.started).count();
    context.open_handles = filesystem.handles.size();
    context.late_invalidations = filesystem.late_invalidations.load(std::memory_order_relaxed);
    context.residency = &filesystem.residency;
    context.reload = filesystem.last_reload();
    context.serving = filesystem.serving;
    if (filesystem.uring_active.load()) context.serving.transport = "io_uring";
    context.serving.ring_requests = filesystem.ring_requests.load(std::memory_order_relaxed);
    return context;
}

void Filesystem::record_reload(bool accepted, std::string message) {
    std::lock_guard lock(reload_mutex_);
    ++reload_.count;
    reload_.accepted = accepted;
    reload_.message = std::move(message);
}

ReloadOutcome Filesystem::last_reload() const {
    std::lock_guard lock(reload_mutex_);
    return reload_;
}

}  // namespace mapfs
