#include "daemon/signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace mapfs {
namespace {

constexpr int handled[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
// The write end, for the handler: a signal handler may only do
// async-signal-safe things, so the work happens on the waiting thread.
int signal_pipe = -1;

constexpr char reload_byte = 'r';
constexpr char stop_byte = 's';
constexpr char transport_ended_byte = 'e';
constexpr char handover_byte = 'u';

void on_signal(int signal) {
    const int saved = errno;
    const char byte = signal == SIGHUP ? reload_byte : signal == SIGUSR1 ? handover_byte : stop_byte;
    [[maybe_unused]] const ssize_t written = ::write(signal_pipe, &byte, 1);
    errno = saved;
}

}  // namespace

SignalEvents::SignalEvents() {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return;
    read_end_.reset(ends[0]);
    write_end_.reset(ends[1]);
    signal_pipe = ends[1];
    struct sigaction action {};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < 4; ++i) ::sigaction(handled[i], &action, &previous_[i]);
    // A client gone while mapfs writes to it must not kill the daemon.
    ::signal(SIGPIPE, SIG_IGN);
}

SignalEvents::~SignalEvents() {
    if (!valid()) return;
    for (std::size_t i = 0; i < 4; ++i) ::sigaction(handled[i], &previous_[i], nullptr);
    signal_pipe = -1;
}

SignalEvents::Event SignalEvents::wait() noexcept {
    while (true) {
        char byte = 0;
        const ssize_t got = ::read(read_end_.get(), &byte, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got != 1) return Event::stop;
        if (byte == stop_byte) return Event::stop;
        if (byte == transport_ended_byte) return Event::transport_ended;
        if (byte == handover_byte) return Event::handover;
        // Several SIGHUPs in a row make one reload.
        pollfd more{read_end_.get(), POLLIN, 0};
        while (::poll(&more, 1, 0) == 1) {
            char next = 0;
            if (::read(read_end_.get(), &next, 1) != 1) break;
            if (next != reload_byte) {
                // Keep the stronger event for the next wait.
                post(next == stop_byte ? Event::stop : next == handover_byte ? Event::handover : Event::transport_ended);
                break;
            }
        }
        return Event::reload;
    }
}

void SignalEvents::post(Event event) noexcept {
    const char byte = event == Event::reload     ? reload_byte
                      : event == Event::stop     ? stop_byte
                      : event == Event::handover ? handover_byte
                                                 : transport_ended_byte;
    [[maybe_unused]] const ssize_t written = ::write(write_end_.get(), &byte, 1);
}

}  // namespace mapfs
