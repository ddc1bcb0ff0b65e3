// Writeback errors of one backing file, told to every open file once.
//
// The kernel reports a failed writeback once per open file description
// (errseq). All windows of a region share the region's one open file, so
// the kernel would tell only the first window that syncs; the others would
// report success for pages that never reached the disk. Every error a sync
// sees is recorded here with a generation, and each open handle remembers
// the last generation it was told.
#pragma once

#include <cstdint>
#include <mutex>

namespace mapfs {

class WritebackErrors {
public:
    // The generation an opener starts from: errors from before it opened
    // are not its to hear, as with errseq_sample() at open.
    std::uint64_t generation() const noexcept;
    // Records `error` (an errno, 0 for none) seen by a sync.
    void record(int error) noexcept;
    // The last error after generation `seen`, or 0; moves `seen` forward.
    int take(std::uint64_t& seen) const noexcept;

private:
    mutable std::mutex mutex_;
    std::uint64_t generation_ = 0;
    int last_error_ = 0;
};

}  // namespace mapfs
