// How much of a mapping is in memory, for the status report.
//
// Measuring walks page tables or the page cache, which for a TiB window
// takes seconds; the status file is opened by anyone who may read the
// mount. So a measurement is kept for a few seconds, only one runs at a
// time, and a walk that runs out of its time budget reports that instead
// of a number.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "mapping/mapping.hpp"

namespace mapfs {

struct Residency {
    std::optional<std::uint64_t> bytes;  // none when it could not be told
    std::string why_unknown;
};

class ResidencyMeter {
public:
    // `fd`: the file behind a MAP_SHARED mapping (its page cache is the
    // mapping's memory), or -1 for a private one. Only the first
    // `length_bytes` of the mapping count (a growable region's view is
    // mapped beyond its size).
    Residency measure(const Mapping& mapping, int fd, std::uint64_t length_bytes);

    static constexpr std::chrono::seconds max_age{5};
    static constexpr std::chrono::milliseconds walk_budget{250};

private:
    struct Measured {
        Residency residency;
        std::chrono::steady_clock::time_point when;
    };
    using Key = std::pair<const void*, std::size_t>;
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept {
            return std::hash<const void*>()(key.first) ^ (key.second * 0x9e3779b97f4a7c15ULL);
        }
    };

    std::mutex cache_mutex_;
    std::unordered_map<Key, Measured, KeyHash> cache_;
    std::mutex measuring_;  // one walk at a time
};

// The measurement itself, without the cache: page cache counts (cachestat)
// where the kernel has them, else mincore within `budget`.
Residency measure_residency(const Mapping& mapping, int fd, std::uint64_t length_bytes, std::chrono::milliseconds budget);

}  // namespace mapfs
