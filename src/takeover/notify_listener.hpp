// The supervisor's end of the notify protocol (sd_notify): a datagram
// socket that a server it started sends READY=1, STOPPING=1, FDSTORE=1 and
// FDSTOREREMOVE=1 to, as it would to systemd. Messages come with the
// sender's credentials, so that only the server is listened to.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"

namespace mapfs {

struct NotifyMessage {
    pid_t sender = 0;
    std::map<std::string, std::string> fields;  // "READY" -> "1"
    std::vector<UniqueFd> descriptors;

    bool says(const std::string& key, const std::string& value = "1") const {
        const auto found = fields.find(key);
        return found != fields.end() && found->second == value;
    }
};

class NotifyListener {
public:
    // An abstract socket with a name of its own; false when none can be made.
    bool open();
    int fd() const noexcept { return socket_.get(); }
    // For NOTIFY_SOCKET: "@..." (abstract).
    const std::string& address() const noexcept { return address_; }

    // The next message waiting, or nothing.
    std::optional<NotifyMessage> receive();

private:
    UniqueFd socket_;
    std::string address_;
};

}  // namespace mapfs
