#include "mapping/pages.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "base/log.hpp"
#include "config/size.hpp"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif

namespace mapfs {

namespace {

struct PageRange {
    std::byte* start;
    std::size_t length;
};

PageRange pages_of(const Window& window) {
    const auto first = reinterpret_cast<std::uintptr_t>(window.bytes().data());
    const std::uintptr_t start = first / page_size() * page_size();
    const std::uintptr_t end = (first + window.length_bytes() + page_size() - 1) / page_size() * page_size();
    return {reinterpret_cast<std::byte*>(start), end - start};
}

std::string memlock_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return "unknown";
    return limit.rlim_cur == RLIM_INFINITY ? "unlimited" : format_size(limit.rlim_cur);
}

std::string failure(const Window& window, const std::string& what, const std::string& reason) {
    return "mapfs: window \"" + window.name() + "\": cannot " + what + " its " + format_size(window.length_bytes()) +
           ": " + reason;
}

std::uint64_t physical_memory_bytes() {
    return static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * page_size();
}

// ONFAULT: pages a copy window copies on write later are locked as they
// come, instead of copying every page up front.
std::string lock_pages(const Window& window, const PageRange& range) {
    if (::mlock2(range.start, range.length, MLOCK_ONFAULT) == 0) return "";
    const int error = errno;
    std::string message = failure(window, "lock", std::strerror(error));
    if (error == ENOMEM || error == EPERM)
        message += " (RLIMIT_MEMLOCK is " + memlock_limit() + "; raise it with ulimit -l, or LimitMEMLOCK= in the service)";
    return message;
}

}  // namespace

std::string bring_in_pages(const Window& window) {
    if (window.pages() == PageMode::lazy || window.length_bytes() == 0) return "";
    const std::string what = window.pages() == PageMode::lock ? "lock" : "populate";
    // More than the machine holds would fill memory (anonymous regions) or
    // churn the page cache for nothing: refuse before touching a page.
    if (const std::uint64_t memory = physical_memory_bytes(); window.length_bytes() > memory) {
        const double gib = static_cast<double>(memory) / (1 << 30);
        return failure(window, what, fmt::format("more than this machine's memory ({:.1f}GiB)", gib)) + "\n";
    }
    const PageRange range = pages_of(window);
    // Read faults only: a write fault on a shared file mapping would mark
    // every page dirty and stamp the backing file's mtime, a change nobody
    // asked for.
    if (::madvise(range.start, range.length, MADV_POPULATE_READ) != 0)
        return failure(window, what, std::strerror(errno)) + "\n";
    if (window.pages() != PageMode::lock) return "";
    const std::string locking = lock_pages(window, range);
    return locking.empty() ? "" : locking + "\n";
}

void lock_pages_after_fork(const Registry& registry) {
    for (const InodeNumber ino : registry.window_inodes()) {
        const Window& window = *registry.find(ino)->window;
        if (window.pages() != PageMode::lock || window.length_bytes() == 0) continue;
        // The pages are still resident (the mappings are shared with the
        // parent); only the locks are gone.
        if (const std::string failure = lock_pages(window, pages_of(window)); !failure.empty()) log::error("{}", failure);
    }
}

}  // namespace mapfs
