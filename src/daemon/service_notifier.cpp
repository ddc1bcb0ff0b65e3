#include "daemon/service_notifier.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <chrono>
#include <cstring>

#include "base/log.hpp"
#include "takeover/supervisor.hpp"

namespace mapfs {
namespace {

std::uint64_t monotonic_us() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
}

void notify(const std::string& message) {
    const int result = sd_notify(0, message.c_str());
    if (result < 0) log::warn("sd_notify failed: {}", std::strerror(-result));
}

}  // namespace

void ServiceNotifier::ready(const std::string& status) { notify("READY=1\nSTATUS=" + status); }

void ServiceNotifier::reloading() {
    // MONOTONIC_USEC lets systemd tell this reload from an earlier one.
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_us()));
}

void ServiceNotifier::stopping() {
    if (!stopping_sent_.exchange(true)) notify("STOPPING=1");
}

void ServiceNotifier::status(const std::string& status) { notify("STATUS=" + status); }

void ServiceNotifier::mountpoint(const std::string& path) { notify(std::string(mountpoint_field) + "=" + path); }

bool ServiceNotifier::watchdog_requested() noexcept { return sd_watchdog_enabled(0, nullptr) > 0; }

void ServiceNotifier::start_watchdog(std::function<bool()> healthy) {
    std::uint64_t interval_us = 0;
    if (sd_watchdog_enabled(0, &interval_us) <= 0 || interval_us == 0) return;
    stopping_watchdog_ = false;
    watchdog_ = std::thread([this, interval_us, healthy = std::move(healthy)] { watchdog_loop(interval_us, healthy); });
}

void ServiceNotifier::stop_watchdog() {
    {
        std::lock_guard lock(mutex_);
        stopping_watchdog_ = true;
    }
    wake_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
}

void ServiceNotifier::watchdog_loop(std::uint64_t interval_us, const std::function<bool()>& healthy) {
    std::unique_lock lock(mutex_);
    while (!stopping_watchdog_) {
        // A quarter of the interval: one check that lands while a request
        // is just starting does not let systemd's deadline pass.
        if (healthy()) notify("WATCHDOG=1");
        wake_.wait_for(lock, std::chrono::microseconds(interval_us / 4), [this] { return stopping_watchdog_; });
    }
}

}  // namespace mapfs
