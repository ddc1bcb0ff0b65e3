// What a server that takes the mount over needs besides the descriptors:
// the INIT request the kernel sent once, the inode numbers, which stored
// memfd is which anonymous region, and how many takeovers there were. Kept
// as JSON in a memfd that is handed over with the connection.
//
// The memfd holds two slots and a header naming the current one; a write
// fills the other slot and then flips the header with one small write, so
// a server killed at any moment leaves a whole state behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "namespace/registry.hpp"

namespace mapfs {

struct HandoverState {
    std::vector<std::byte> init_request;  // empty until the kernel's INIT came
    InodeNumbering numbering;
    std::uint64_t takeovers = 0;
    std::string mountpoint;  // as the first server mounted it
    std::timespec time{};    // the nodes' times, which the kernel has cached
    struct Memory {
        std::string stored_as;  // the descriptor's name in the store
        std::string region;
        std::uint64_t configured_size_bytes = 0;
    };
    std::vector<Memory> anonymous;
    // The configuration file's text the server last accepted (none when it
    // has no file, or the state was written by mapfs 0.1.0).
    std::optional<std::string> config_text;
};

class StateFile {
public:
    bool create();
    bool adopt(UniqueFd fd);
    int fd() const noexcept { return fd_.get(); }

    // Writes `state` as the current one; false when the memfd cannot take it.
    bool write(const HandoverState& state);
    // The current state, or nothing (never written, or not readable).
    std::optional<HandoverState> read() const;

private:
    UniqueFd fd_;
};

std::string to_json(const HandoverState& state);
std::optional<HandoverState> handover_state_from_json(const std::string& text);

}  // namespace mapfs
