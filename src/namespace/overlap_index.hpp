// Finds the windows of one region that overlap a byte range, in
// O(k log n): 100,000 windows over one region must not make every write scan
// all of them.
#pragma once

#include <cstdint>
#include <vector>

namespace mapfs {

class OverlapIndex {
public:
    struct Entry {
        std::uint64_t start = 0;  // region offset of the first byte
        std::uint64_t end = 0;    // one past the last byte
        std::uint32_t id = 0;
    };

    OverlapIndex() = default;
    explicit OverlapIndex(std::vector<Entry> entries);

    // Calls visit(id) for every entry with start < end_offset && end > start_offset.
    template <class Visit>
    void for_each_overlap(std::uint64_t start_offset, std::uint64_t end_offset, Visit&& visit) const {
        const std::size_t limit = first_starting_at_or_after(end_offset);
        if (limit > 0) visit_node(1, 0, entries_.size(), limit, start_offset, visit);
    }

    std::size_t size() const noexcept { return entries_.size(); }

private:
    std::size_t first_starting_at_or_after(std::uint64_t offset) const noexcept;
    std::uint64_t build(std::size_t node, std::size_t lo, std::size_t hi);

    template <class Visit>
    void visit_node(std::size_t node, std::size_t lo, std::size_t hi, std::size_t limit,
                    std::uint64_t start_offset, Visit& visit) const {
        if (lo >= limit || max_end_[node] <= start_offset) return;
        if (hi - lo == 1) {
            visit(entries_[lo].id);
            return;
        }
        const std::size_t mid = lo + (hi - lo) / 2;
        visit_node(2 * node, lo, mid, limit, start_offset, visit);
        visit_node(2 * node + 1, mid, hi, limit, start_offset, visit);
    }

    std::vector<Entry> entries_;          // sorted by start
    std::vector<std::uint64_t> max_end_;  // segment tree of the largest end below each node
};

}  // namespace mapfs
