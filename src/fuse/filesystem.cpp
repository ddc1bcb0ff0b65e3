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

std::string status_line_with_outcome(const Filesystem& filesystem) {
    const ReloadOutcome outcome = filesystem.last_reload();
    if (outcome.accepted) return status_line(filesystem);
    std::string first = outcome.message.substr(0, outcome.message.find('\n'));
    for (const char* prefix : {"at takeover: ", "mapfs: "})
        if (first.rfind(prefix, 0) == 0) first.erase(0, std::string_view(prefix).size());
    return status_line(filesystem) + " (last reload rejected: " + first + ")";
}

StatusContext status_context_of(Filesystem& filesystem) {
    StatusContext context;
    context.registry = filesystem.current_registry();
    context.mountpoint = filesystem.mountpoint;
    context.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - filesystem.started).count();
    context.open_handles = filesystem.handles.size();
    context.late_invalidations = filesystem.late_invalidations.load(std::memory_order_relaxed);
    context.residency = &filesystem.residency;
    context.passthrough = filesystem.passthrough.link();
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
