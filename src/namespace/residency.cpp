#include "namespace/residency.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <vector>

namespace mapfs {
namespace {

// cachestat(2), Linux 6.5: page cache counts of a file range, in time
// proportional to the cached pages rather than to the range.
constexpr long cachestat_syscall = 451;
struct CachestatRange {
    std::uint64_t offset;
    std::uint64_t length;
};
struct Cachestat {
    std::uint64_t cache;
    std::uint64_t dirty;
    std::uint64_t writeback;
    std::uint64_t evicted;
    std::uint64_t recently_evicted;
};

std::optional<std::uint64_t> cached_bytes(int fd, const Mapping& mapping, std::uint64_t length_bytes) {
    if (fd < 0) return std::nullopt;
    CachestatRange range{mapping.file_offset(), length_bytes};
    Cachestat counts{};
    if (::syscall(cachestat_syscall, fd, &range, &counts, 0) != 0) return std::nullopt;
    return counts.cache * page_size();
}

std::string refused(const char* call, int error) {
    std::string text = std::string(call) + " failed: " + std::strerror(error);
    if (error == EPERM) text += " (refused by the system: a seccomp filter such as systemd's SystemCallFilter= may not allow it)";
    return text;
}

}  // namespace

Residency measure_residency(const Mapping& mapping, int fd, std::uint64_t length_bytes, std::chrono::milliseconds budget) {
    if (!mapping.mapped()) return {0, ""};
    length_bytes = std::min<std::uint64_t>(length_bytes, mapping.length_bytes());
    if (const auto cached = cached_bytes(fd, mapping, length_bytes)) return {cached, ""};
    const std::size_t page = page_size();
    constexpr std::size_t step_pages = 1 << 16;
    std::vector<unsigned char> flags(step_pages);
    const auto deadline = std::chrono::steady_clock::now() + budget;
    std::uint64_t resident = 0;
    const auto bytes = mapping.bytes().first(static_cast<std::size_t>(length_bytes));
    for (std::size_t offset = 0; offset < bytes.size(); offset += step_pages * page) {
        if (std::chrono::steady_clock::now() > deadline)
            return {std::nullopt, "not measured: the mapping is too large to walk for one report"};
        const std::size_t length = std::min(bytes.size() - offset, step_pages * page);
        if (::mincore(bytes.data() + offset, length, flags.data()) != 0) return {std::nullopt, refused("mincore", errno)};
        const std::size_t pages = (length + page - 1) / page;
        for (std::size_t i = 0; i < pages; ++i) resident += (flags[i] & 1) * page;
    }
    return {resident, ""};
}

Residency ResidencyMeter::measure(const Mapping& mapping, int fd, std::uint64_t length_bytes) {
    const Key key{mapping.bytes().data(), length_bytes};
    const auto now = std::chrono::steady_clock::now();
    std::optional<Measured> known;
    {
        std::lock_guard lock(cache_mutex_);
        if (const auto found = cache_.find(key); found != cache_.end()) known = found->second;
    }
    if (known && now - known->when < max_age) return known->residency;
    std::unique_lock walking(measuring_, std::try_to_lock);
    if (!walking.owns_lock()) return known ? known->residency : Residency{std::nullopt, "being measured for another report"};
    Residency residency = measure_residency(mapping, fd, length_bytes, walk_budget);
    std::lock_guard lock(cache_mutex_);
    // Mappings come and go with reloads: forget what was not asked about lately.
    std::erase_if(cache_, [&](const auto& entry) { return now - entry.second.when > 10 * max_age; });
    cache_[key] = {residency, std::chrono::steady_clock::now()};
    return residency;
}

}  // namespace mapfs
