// What systemd is doing to a unit right now, for telling a stop from a
// restart: both start with SIGTERM and run ExecStopPost=, but after a stop
// the mount must go and after a restart the next server takes it over.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace mapfs {

enum class UnitIntent {
    stop,     // a stop job (systemctl stop, shutdown): unmount
    restart,  // a restart job, or none after a failure (Restart= starts it again)
    unknown,  // no systemd to ask, or no answer: treat as a stop
};

// The unit a process runs in (from its cgroup), or "".
std::string unit_of_pid(pid_t pid);
inline std::string own_unit() { return unit_of_pid(0); }

// Asks systemd (its private socket as root, else the system bus) for the
// job pending on `unit`. `service_result` is $SERVICE_RESULT when
// ExecStopPost= asks ("" from the running server): with no job pending, a
// result other than "success" means Restart= will start it again.
UnitIntent unit_intent(const std::string& unit, const std::string& service_result);

}  // namespace mapfs
