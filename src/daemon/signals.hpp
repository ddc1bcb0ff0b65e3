// SIGTERM, SIGINT and SIGHUP as events that a thread waits for, instead of
// libfuse's handlers: those end the session loop at once, before the
// threads that may be waiting on the mount (a reload, a notification) are
// done with it, and they take SIGHUP for "stop" where mapfs means reload.
#pragma once

#include <signal.h>

#include "base/unique_fd.hpp"

namespace mapfs {

class SignalEvents {
public:
    // SIGHUP: reload; SIGTERM, SIGINT: stop; SIGUSR1: hand the mount over
    // to a new server (the supervisor's upgrade).
    enum class Event { reload, stop, handover, transport_ended };

    // Installs the handlers; the events wait in a pipe until taken.
    SignalEvents();
    ~SignalEvents();
    SignalEvents(const SignalEvents&) = delete;
    SignalEvents& operator=(const SignalEvents&) = delete;

    bool valid() const noexcept { return read_end_.valid(); }
    // The next event (several SIGHUPs in a row come out as one reload).
    Event wait() noexcept;
    // Posts an event from a thread (not a signal).
    void post(Event event) noexcept;

private:
    UniqueFd read_end_;
    UniqueFd write_end_;
    struct sigaction previous_[4]{};
};

}  // namespace mapfs
