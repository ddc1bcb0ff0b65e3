// The open handles by file handle number, the `fh` the kernel gives back
// with every request on an open file.
//
// A number belongs to the inode it was opened on: every request names both,
// and a handle is given out only for its own inode (get). A number the
// kernel still holds for a window that is gone (a takeover after the window
// left the configuration) is retired: it answers EBADF and is never given
// to another open until the kernel releases it.
//
// Numbers are small slot indexes, not pointers, so that they mean the same
// to any process that rebuilds the table. Reading a slot takes no lock: the
// kernel uses a number only between the reply to its OPEN and its RELEASE,
// so nobody writes a slot while a request reads it, and the chunks that
// hold the slots are never moved or freed while the table lives.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/expected.hpp"
#include "namespace/handle_records.hpp"
#include "namespace/open_handle.hpp"

namespace mapfs {

class HandleTable {
public:
    HandleTable() = default;
    HandleTable(const HandleTable&) = delete;
    HandleTable& operator=(const HandleTable&) = delete;
    ~HandleTable();

    // Where the table writes each number's inode down for a server that
    // takes over (null: nowhere).
    void record_in(HandleRecords* records) noexcept { records_ = records; }

    // Stores `handle` and returns its number (never 0), or ENOMEM / ENFILE.
    Result<std::uint64_t> insert(std::shared_ptr<OpenHandle> handle) noexcept;
    // Puts `handle` back under the number a previous server gave it, before
    // any insert. False when the number is out of range or taken.
    bool restore(std::uint64_t fh, std::shared_ptr<OpenHandle> handle) noexcept;
    // A number a previous server gave (`record`), whose window is gone:
    // kept from other opens until the kernel releases it (erase).
    void retire(const HandleRecords::Record& record) noexcept;
    // After the restores: the numbers between them are free to give.
    void finish_restore() noexcept;
    // The handle numbered `fh` if it was opened on inode `ino`, else null
    // (a number not in use, retired, or another inode's).
    std::shared_ptr<OpenHandle> get(std::uint64_t fh, std::uint64_t ino) const noexcept;
    // The kernel's RELEASE of `fh` on `ino`: takes the handle (or the
    // retired number) out, and the number may be given again. Null when
    // there was no handle of that inode (a retired number included).
    std::shared_ptr<OpenHandle> erase(std::uint64_t fh, std::uint64_t ino) noexcept;
    std::size_t size() const noexcept;

private:
    static constexpr std::size_t slots_per_chunk = 1024;
    static constexpr std::size_t max_chunks = 4096;  // 4 Mi handles
    struct Chunk {
        std::array<std::shared_ptr<OpenHandle>, slots_per_chunk> slots;
    };

    std::shared_ptr<OpenHandle>* slot(std::uint64_t fh) const noexcept;
    bool ensure_chunk(std::uint64_t fh) noexcept;

    std::array<std::atomic<Chunk*>, max_chunks> chunks_{};
    mutable std::mutex mutex_;  // insert and erase
    std::vector<std::uint64_t> free_numbers_;
    std::unordered_map<std::uint64_t, std::uint64_t> retired_;  // fh -> inode
    std::uint64_t next_number_ = 1;
    std::size_t in_use_ = 0;
    HandleRecords* records_ = nullptr;
};

}  // namespace mapfs
