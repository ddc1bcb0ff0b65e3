// The open file handles written down where a server that takes the mount
// over can read them: a memfd of fixed-size records, one per handle number,
// saying which inode the handle is open on and, for an open file the kernel
// serves itself (passthrough), the backing id it was opened with. The
// kernel keeps using the numbers it was given; the next server rebuilds
// the same table from this, and names the same backing ids in the
// inodes' next opens.
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
        std::uint32_t backing_id = 0;  // 0: served by mapfs
        bool operator==(const Record&) const = default;
    };
    // One record is one 64-bit word, written with one store: the inode
    // number, as mapfs 0.1 wrote it; or, for a passed-through open, the top
    // bit, the backing id in bits 32-62 and the inode number below (such
    // an open needs an inode number below 2^32). 0: closed.
    static std::uint64_t encode(std::uint64_t ino, std::uint32_t backing_id) noexcept;
    static Record decode(std::uint64_t fh, std::uint64_t word) noexcept;
    // Whether a passed-through open of `ino` can be written down.
    static bool can_record_backing(std::uint64_t ino) noexcept { return ino <= 0xffffffffu; }

    HandleRecords() = default;
    HandleRecords(const HandleRecords&) = delete;
    HandleRecords& operator=(const HandleRecords&) = delete;

    // A new, empty memfd; false when it cannot be made.
    bool create();
    // The memfd a previous server left; false when it cannot be mapped.
    bool adopt(UniqueFd fd);
    int fd() const noexcept { return fd_.get(); }

    // Handle `fh` (1, 2, ...) is open on `ino` (passed through to
    // `backing_id`) / is closed. noexcept: a record that cannot be written
    // (no memory for a new chunk) only means a takeover would not know
    // that handle.
    void opened(std::uint64_t fh, std::uint64_t ino, std::uint32_t backing_id = 0) noexcept;
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
