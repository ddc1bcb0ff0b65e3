// A server's side of a takeover: what it inherits from the server before it
// (the connection, the state, the open handles, anonymous memory) and what
// it keeps up to date for the one after it. The descriptors live in the
// FdStore (systemd's, or the supervisor's); this process only writes what
// they hold.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mapping/plan.hpp"
#include "takeover/fd_store.hpp"
#include "takeover/handover_state.hpp"
#include "namespace/handle_records.hpp"
#include "namespace/loader.hpp"
#include "namespace/registry.hpp"

namespace mapfs {

class Handover {
public:
    // Takes the descriptors a previous server left: `fuse`, `state`,
    // `handles`, `anon.N`. `storing`: something (systemd, the supervisor)
    // keeps descriptors for the next server.
    Handover(std::map<std::string, UniqueFd> inherited, bool storing);

    // Whether a connection was handed down (else mapfs mounts).
    bool has_connection() const noexcept { return connection_.valid(); }
    UniqueFd take_connection() { return std::move(connection_); }
    // Whether a server served this connection before (its INIT is kept).
    bool takes_over() const noexcept { return previous_ && !previous_->init_request.empty(); }
    const std::vector<std::byte>& init_request() const;
    // What the previous server's mount was: numbers, times, mount point
    // (without the anonymous memory: kept_memory()).
    // Once: the numbers move out to the caller.
    Succession take_succession();
    // The previous server's anonymous memory; the descriptors stay owned
    // by this object.
    std::vector<KeptMemory> kept_memory() const;
    // The handles the previous server had open: fh -> inode.
    std::vector<HandleRecords::Record> open_handles() const { return records_.open_handles(); }
    std::uint64_t takeovers() const noexcept { return state_.takeovers; }

    HandleRecords& records() noexcept { return records_; }

    // After start-up and each reload: stores what the next server needs.
    void publish(const Registry& registry, const std::string& mountpoint);
    // Once the state is published: the connection, for the next server
    // (one handed down is in the store already).
    void store_connection(int connection_fd);
    // Whether descriptors are stored for a next server at all.
    bool storing() const noexcept { return storing_; }
    // Store nothing more, and take back what was stored: this mount will
    // not be taken over (its requests come through io_uring).
    void stop_storing();
    // The kernel's INIT request, once.
    void remember_init(std::span<const std::byte> request);
    // The configuration file's text now in force ("" without a file), for
    // the next server should the file be rejected then; written at the
    // next publish().
    void remember_configuration(std::string text);

private:
    // Writes state_ with `numbering`, which is not kept: the memfd holds it.
    void write_state(InodeNumbering& numbering);

    std::mutex mutex_;
    FdStore store_;
    bool storing_ = false;
    bool connection_stored_ = false;
    UniqueFd connection_;
    std::optional<HandoverState> previous_;
    std::map<std::string, UniqueFd> inherited_memory_;  // anon.N
    StateFile file_;
    HandleRecords records_;
    HandoverState state_;  // all but the numbers
    InodeNumbering numbering_until_init_;
    std::map<int, std::string> stored_memory_;  // memfd (by the region's fd) -> stored name
    unsigned next_memory_name_ = 0;
};

}  // namespace mapfs
