#include "takeover/fd_store.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

#include "base/log.hpp"

namespace mapfs {

bool FdStore::store(const std::string& name, int fd) const noexcept {
    const std::string message = "FDSTORE=1\nFDNAME=" + name;
    // systemd keeps descriptors of the same name side by side: the old one
    // goes first.
    remove(name);
    const int result = sd_pid_notify_with_fds(0, 0, message.c_str(), &fd, 1);
    if (result <= 0) log::warn("cannot store {} for a takeover: {}", name, result < 0 ? std::strerror(-result) : "no store");
    return result > 0;
}

void FdStore::remove(const std::string& name) const noexcept {
    const std::string message = "FDSTOREREMOVE=1\nFDNAME=" + name;
    sd_notify(0, message.c_str());
}

std::map<std::string, UniqueFd> inherited_descriptors() {
    char** names = nullptr;
    const int count = sd_listen_fds_with_names(1, &names);
    std::map<std::string, UniqueFd> found;
    for (int i = 0; i < count; ++i) {
        const int fd = SD_LISTEN_FDS_START + i;
        const std::string name = names != nullptr && names[i] != nullptr ? names[i] : "unknown";
        found[name] = UniqueFd(fd);
    }
    if (names != nullptr) {
        for (int i = 0; i < count; ++i) std::free(names[i]);
        std::free(names);
    }
    return found;
}

}  // namespace mapfs
