#include "mapping/pages.hpp"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

#include "base/log.hpp"
#include "config/size.hpp"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif

namespace mapfs {

namespace {

struct PageRange {
    std::uintptr_t start;
    std::uintptr_t end;
};

PageRange pages_of(const Window& window) {
    const auto first = reinterpret_cast<std::uintptr_t>(window.bytes().data());
    const std::uintptr_t start = first / page_size() * page_size();
    const std::uintptr_t end = (first + window.length_bytes() + page_size() - 1) / page_size() * page_size();
    return {start, end};
}

// The pages the windows show, each page once however many windows show it:
// sorted ranges that do not overlap.
std::vector<PageRange> union_of(const std::vector<const Window*>& windows) {
    std::vector<PageRange> ranges;
    for (const Window* window : windows) ranges.push_back(pages_of(*window));
    std::sort(ranges.begin(), ranges.end(), [](const PageRange& a, const PageRange& b) { return a.start < b.start; });
    std::vector<PageRange> merged;
    for (const PageRange& range : ranges) {
        if (!merged.empty() && range.start <= merged.back().end) merged.back().end = std::max(merged.back().end, range.end);
        else merged.push_back(range);
    }
    return merged;
}

std::uint64_t union_bytes(const std::vector<const Window*>& windows) {
    std::uint64_t total = 0;
    for (const PageRange& range : union_of(windows)) total += range.end - range.start;
    return total;
}

// Bytes the `locked` windows would lock that no window has locked yet: a
// reload that keeps a region keeps what its other windows locked, and those
// pages count against RLIMIT_MEMLOCK once.
std::uint64_t bytes_to_lock(const std::vector<const Window*>& locked) {
    std::vector<const Region*> regions;
    for (const Window* window : locked)
        if (window->shares_region_mapping() && std::find(regions.begin(), regions.end(), &window->region()) == regions.end())
            regions.push_back(&window->region());
    std::uint64_t total = 0;
    for (const PageRange& range : union_of(locked)) {
        std::uint64_t already = 0;
        for (const Region* region : regions) already += region->locked_bytes_within(range.start, range.end);
        total += range.end - range.start - std::min<std::uint64_t>(already, range.end - range.start);
    }
    return total;
}

std::string memlock_limit_text(const rlimit& limit) {
    return limit.rlim_cur == RLIM_INFINITY ? "unlimited" : format_size(limit.rlim_cur);
}

std::string memlock_limit_text() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return "unknown";
    return memlock_limit_text(limit);
}

bool has_ipc_lock_capability() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return (data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK)) != 0;
}

// Memory this process has locked already (VmLck), in bytes.
std::uint64_t locked_bytes() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

std::uint64_t physical_memory_bytes() {
    return static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * page_size();
}

// `window "a"` or `windows "a", "b" and 3 more`.
std::string subject_of(const std::vector<const Window*>& windows) {
    if (windows.size() == 1) return "window \"" + windows.front()->name() + "\"";
    std::string names;
    const std::size_t shown = std::min<std::size_t>(windows.size(), 3);
    for (std::size_t i = 0; i < shown; ++i) names += (i == 0 ? "\"" : ", \"") + windows[i]->name() + "\"";
    if (windows.size() > shown) names += " and " + std::to_string(windows.size() - shown) + " more";
    return "windows " + names;
}

std::string failure(const std::vector<const Window*>& windows, const std::string& what, std::uint64_t bytes,
                    const std::string& reason) {
    const std::string their = windows.size() == 1 ? "its " : "their ";
    const std::string together = windows.size() == 1 ? "" : " together";
    return "mapfs: " + subject_of(windows) + ": cannot " + what + " " + their + format_size(bytes) + together + ": " +
           reason + "\n";
}

// The limits, checked for all windows before any page is touched.
std::string check_limits(const std::vector<const Window*>& resident, const std::vector<const Window*>& locked) {
    const std::uint64_t resident_bytes = union_bytes(resident);
    if (const std::uint64_t memory = physical_memory_bytes(); resident_bytes > memory) {
        const std::string what = locked.size() == resident.size() ? "lock" : "populate";
        const double gib = static_cast<double>(memory) / (1 << 30);
        return failure(resident, what, resident_bytes, fmt::format("more than this machine's memory ({:.1f}GiB)", gib));
    }
    rlimit limit{};
    if (locked.empty() || has_ipc_lock_capability() || ::getrlimit(RLIMIT_MEMLOCK, &limit) != 0 ||
        limit.rlim_cur == RLIM_INFINITY)
        return "";
    const std::uint64_t wanted = bytes_to_lock(locked);
    const std::uint64_t already = locked_bytes();
    const std::uint64_t left = limit.rlim_cur > already ? limit.rlim_cur - already : 0;
    if (wanted <= left) return "";
    return failure(locked, "lock", wanted,
                   "RLIMIT_MEMLOCK is " + memlock_limit_text(limit) + " (" + format_size(left) +
                       " of it left); raise it with ulimit -l, or LimitMEMLOCK= in the service");
}

std::string lock_pages(Window& window) {
    const int error = window.lock_pages();
    if (error == 0) return "";
    std::string reason = std::strerror(error);
    rlimit limit{};
    const bool limited = ::getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur != 0;
    if (error == EPERM && limited)
        reason += " (the system refused mlock2 itself: a seccomp filter such as systemd's SystemCallFilter= may not allow @memlock)";
    else if (error == ENOMEM || error == EPERM)
        reason += " (RLIMIT_MEMLOCK is " + memlock_limit_text() + "; raise it with ulimit -l, or LimitMEMLOCK= in the service)";
    return failure({&window}, "lock", window.length_bytes(), reason);
}

std::string populate_pages(const Window& window) {
    const PageRange range = pages_of(window);
    // Read faults only: a write fault on a shared file mapping would mark
    // every page dirty and stamp the backing file's mtime, a change nobody
    // asked for.
    if (::madvise(reinterpret_cast<void*>(range.start), range.end - range.start, MADV_POPULATE_READ) == 0) return "";
    const std::string what = window.pages() == PageMode::lock ? "lock" : "populate";
    return failure({&window}, what, window.length_bytes(), std::strerror(errno));
}

}  // namespace

std::string bring_in_pages(std::span<const std::shared_ptr<Window>> windows) {
    std::vector<const Window*> resident;
    std::vector<const Window*> locked;
    for (const std::shared_ptr<Window>& window : windows) {
        if (window->pages() == PageMode::lazy || window->length_bytes() == 0) continue;
        resident.push_back(window.get());
        if (window->pages() == PageMode::lock) locked.push_back(window.get());
    }
    if (resident.empty()) return "";
    if (std::string refusal = check_limits(resident, locked); !refusal.empty()) return refusal;
    std::string failures;
    for (const std::shared_ptr<Window>& window : windows) {
        if (window->pages() == PageMode::lazy || window->length_bytes() == 0) continue;
        std::string failure = populate_pages(*window);
        if (failure.empty() && window->pages() == PageMode::lock) failure = lock_pages(*window);
        failures += failure;
    }
    return failures;
}

void lock_pages_after_fork(std::span<const std::shared_ptr<Window>> windows) {
    for (const std::shared_ptr<Window>& window : windows) {
        if (window->pages() != PageMode::lock || window->length_bytes() == 0) continue;
        // The pages are still resident (the mappings are shared with the
        // parent); only the locks are gone, not their counts.
        const PageRange range = pages_of(*window);
        if (::mlock2(reinterpret_cast<void*>(range.start), range.end - range.start, MLOCK_ONFAULT) != 0)
            log::error("window \"{}\": cannot lock its pages again after going to the background: {}", window->name(),
                       std::strerror(errno));
    }
}

}  // namespace mapfs
