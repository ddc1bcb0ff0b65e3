// A file registered with the FUSE connection for passthrough: the id the
// kernel gave it (FUSE_DEV_IOC_BACKING_OPEN), which an OPEN reply names so
// that the kernel serves that open file from this file itself.
//
// Ids belong to the connection, not to the process: they outlive a server
// that dies, and a server that takes the connection over adopts the ids its
// open handles name (handle_records.hpp). The kernel lets the open files of
// one inode share one backing file only, so an inode's new opens reuse the
// id its open files have, whoever registered it. An id is closed when its
// last owner lets go while the mount stays with this server; a server that
// hands the mount over or unmounts leaves its ids to the connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "base/expected.hpp"

namespace mapfs {

// The connection the ids belong to, shared by every BackingFile of it.
class BackingConnection {
public:
    // The connection's /dev/fuse descriptor, once known (before serving:
    // ids a takeover adopts are known before the descriptor is).
    void serve(int fuse_fd) noexcept { fd_.store(fuse_fd, std::memory_order_release); }
    int fd() const noexcept { return fd_.load(std::memory_order_acquire); }
    // From now on ids are left to the connection (a handover, a stop).
    void keep_ids() noexcept { keep_ids_.store(true, std::memory_order_release); }
    bool keeps_ids() const noexcept { return keep_ids_.load(std::memory_order_acquire); }

private:
    std::atomic<int> fd_{-1};
    std::atomic<bool> keep_ids_{false};
};

class BackingFile {
public:
    // Registers `file_fd` (a regular file) with the connection; the errno
    // on failure (EPERM: no CAP_SYS_ADMIN or a connection set up without
    // passthrough; ELOOP: a file on a stacked file system).
    static Result<std::shared_ptr<const BackingFile>> open(std::shared_ptr<BackingConnection> connection,
                                                           int file_fd) noexcept;
    // An id a previous server registered on this connection.
    static std::shared_ptr<const BackingFile> adopt(std::shared_ptr<BackingConnection> connection,
                                                    std::uint32_t id) noexcept;
    ~BackingFile();
    BackingFile(const BackingFile&) = delete;
    BackingFile& operator=(const BackingFile&) = delete;

    std::uint32_t id() const noexcept { return id_; }

private:
    BackingFile(std::shared_ptr<BackingConnection> connection, std::uint32_t id) noexcept
        : connection_(std::move(connection)), id_(id) {}

    std::shared_ptr<BackingConnection> connection_;
    std::uint32_t id_;
};

}  // namespace mapfs
