// Where a server keeps the descriptors that outlive it (the FUSE connection,
// the handover state, anonymous memory): systemd's file descriptor store
// (FileDescriptorStoreMax=, sd_pid_notify_with_fds "FDSTORE=1"), or
// mapfs's own supervisor, which takes the same messages on the
// NOTIFY_SOCKET it gives its server. Either hands them to the next server
// in LISTEN_FDS with their names (sd_listen_fds_with_names).
#pragma once

#include <map>
#include <string>

#include "base/unique_fd.hpp"

namespace mapfs {

class FdStore {
public:
    // Stores a copy of `fd` as `name`, replacing one of that name.
    bool store(const std::string& name, int fd) const noexcept;
    void remove(const std::string& name) const noexcept;
};

// The descriptors a previous server stored, by name; empty when there are
// none. Takes them out of the environment.
std::map<std::string, UniqueFd> inherited_descriptors();

}  // namespace mapfs
