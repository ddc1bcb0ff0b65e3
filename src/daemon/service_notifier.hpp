// The systemd notify protocol (sd_notify): READY, STATUS, RELOADING,
// STOPPING and watchdog pings. Every call is a no-op when NOTIFY_SOCKET is
// not set, so the daemon behaves the same outside systemd.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace mapfs {

class ServiceNotifier {
public:
    ServiceNotifier() = default;
    ServiceNotifier(const ServiceNotifier&) = delete;
    ServiceNotifier& operator=(const ServiceNotifier&) = delete;
    ~ServiceNotifier() { stop_watchdog(); }

    void ready(const std::string& status);
    void reloading();
    void stopping();
    void status(const std::string& status);
    // For mapfs's supervisor: where this server mounts, so that it can
    // detach the mount should the server die with nothing kept.
    void mountpoint(const std::string& path);

    // Whether systemd asked for watchdog pings (WatchdogSec=).
    static bool watchdog_requested() noexcept;
    // Pings WATCHDOG=1 four times per interval systemd asked for
    // (WatchdogSec=), each time `healthy` says the daemon is serving; a
    // daemon stuck for the whole interval is then restarted by systemd.
    void start_watchdog(std::function<bool()> healthy);
    void stop_watchdog();

private:
    void watchdog_loop(std::uint64_t interval_us, const std::function<bool()>& healthy);

    std::atomic<bool> stopping_sent_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_watchdog_ = false;
    std::thread watchdog_;
};

}  // namespace mapfs
