// The open file handles written down where a server that takes the mount
// over can read them: a memfd of fixed-size records, one per handle number,
// saying which inode the handle is open on. The kernel keeps using the
// numbers it was given; the next server rebuilds the same table from this.
//
// A record is written with single aligned stores, so a server that dies at
// any point leaves each record either as it was or as it became.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "mapping/mapping.hpp"
#include "base/unique_fd.hpp"

namespace mapfs {

class HandleRecords {
public:
    struct Record {
        std::uint64_t fh = 0;
        std::uint64_t ino = 0;
    };

    HandleRecords() = default;
    HandleRecords(const HandleRecords&) = delete;
    HandleRecords& operator=(const HandleRecords&) = delete;

    // A new, empty memfd; false when it cannot be made.
    bool create();
    // The memfd a previous server left; false when it cannot be mapped.
    bool adopt(UniqueFd fd);
    int fd() const noexcept { return fd_.get(); }

    // Handle `fh` (1, 2, ...) is open on `ino` / is closed. noexcept: a
    // record that cannot be written (no memory for a new chunk) only means
    // a takeover would not know that handle.
    void opened(std::uint64_t fh, std::uint64_t ino) noexcept;
    void closed(std::uint64_t fh) noexcept;

    // Every handle recorded as open.
    std::vector<Record> open_handles() const;

private:
    static constexpr std::size_t records_per_chunk = 4096;
    std::uint64_t* slot(std::uint64_t fh, bool grow) noexcept;

    UniqueFd fd_;
    mutable std::mutex mutex_;  // chunks, not records
    std::vector<Mapping> chunks_;
};

}  // namespace mapfs
