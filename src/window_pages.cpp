#include "mapfs/window_pages.hpp"

#include <sys/mman.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "mapfs/log.hpp"
#include "mapfs/size.hpp"

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

std::string failure(const Window& window, const std::string& what, int error) {
    return "mapfs: window \"" + window.name() + "\": cannot " + what + " its " + format_size(window.length_bytes()) +
           ": " + std::strerror(error);
}

}  // namespace

std::string bring_in_pages(const Window& window) {
    if (window.pages() == PageMode::lazy || window.length_bytes() == 0) return "";
    const PageRange range = pages_of(window);
    // Read faults only: a write fault on a shared file mapping would mark
    // every page dirty and stamp the backing file's mtime, a change nobody
    // asked for.
    if (::madvise(range.start, range.length, MADV_POPULATE_READ) != 0)
        return failure(window, "populate", errno) + "\n";
    if (window.pages() != PageMode::lock) return "";
    // ONFAULT: pages a copy window copies on write later are locked as they
    // come, instead of copying every page up front.
    if (::mlock2(range.start, range.length, MLOCK_ONFAULT) != 0) {
        const int error = errno;
        std::string message = failure(window, "lock", error);
        if (error == ENOMEM || error == EPERM)
            message += " (RLIMIT_MEMLOCK is " + memlock_limit() +
                       "; raise it with ulimit -l, or LimitMEMLOCK= in the service)";
        return message + "\n";
    }
    return "";
}

void lock_pages_after_fork(const Registry& registry) {
    for (const InodeNumber ino : registry.window_inodes()) {
        const Window& window = *registry.find(ino)->window;
        if (window.pages() != PageMode::lock) continue;
        const std::string failure = bring_in_pages(window);
        if (!failure.empty()) log::error("{}", failure.substr(0, failure.size() - 1));
    }
}

}  // namespace mapfs
