#include "namespace/overlap_index.hpp"

#include <algorithm>

namespace mapfs {

OverlapIndex::OverlapIndex(std::vector<Entry> entries) : entries_(std::move(entries)) {
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.start < b.start; });
    if (entries_.empty()) return;
    max_end_.assign(4 * entries_.size(), 0);
    build(1, 0, entries_.size());
}

std::uint64_t OverlapIndex::build(std::size_t node, std::size_t lo, std::size_t hi) {
    if (hi - lo == 1) return max_end_[node] = entries_[lo].end;
    const std::size_t mid = lo + (hi - lo) / 2;
    return max_end_[node] = std::max(build(2 * node, lo, mid), build(2 * node + 1, mid, hi));
}

std::size_t OverlapIndex::first_starting_at_or_after(std::uint64_t offset) const noexcept {
    const auto found = std::lower_bound(entries_.begin(), entries_.end(), offset,
                                        [](const Entry& entry, std::uint64_t value) { return entry.start < value; });
    return static_cast<std::size_t>(found - entries_.begin());
}

}  // namespace mapfs
