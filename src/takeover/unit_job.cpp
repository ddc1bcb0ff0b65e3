#include "takeover/unit_job.hpp"

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "base/log.hpp"

namespace mapfs {
namespace {

struct BusUnref {
    void operator()(sd_bus* bus) const noexcept { sd_bus_flush_close_unref(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusUnref>;

// root reaches systemd without dbus-daemon, as systemctl does.
Bus open_manager_bus() {
    sd_bus* bus = nullptr;
    if (::geteuid() == 0 && sd_bus_new(&bus) >= 0) {
        Bus owned(bus);
        if (sd_bus_set_address(bus, "unix:path=/run/systemd/private") >= 0 && sd_bus_start(bus) >= 0) return owned;
    }
    bus = nullptr;
    if (sd_bus_open_system(&bus) >= 0) return Bus(bus);
    return nullptr;
}

std::optional<std::string> string_property(sd_bus* bus, const std::string& path, const char* interface, const char* name) {
    char* value = nullptr;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    const int result = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path.c_str(), interface, name, &error, &value);
    sd_bus_error_free(&error);
    if (result < 0) return std::nullopt;
    std::string text = value;
    std::free(value);
    return text;
}

// The job's type ("stop", "restart", ...), "" without a job, or nothing.
std::optional<std::string> pending_job_type(sd_bus* bus, const std::string& unit) {
    char* unit_path = nullptr;
    if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit.c_str(), &unit_path) < 0) return std::nullopt;
    const std::string path = unit_path;
    std::free(unit_path);
    sd_bus_message* reply = nullptr;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    int result = sd_bus_get_property(bus, "org.freedesktop.systemd1", path.c_str(), "org.freedesktop.systemd1.Unit", "Job",
                                     &error, &reply, "(uo)");
    sd_bus_error_free(&error);
    if (result < 0) return std::nullopt;
    std::uint32_t id = 0;
    const char* job_path = nullptr;
    result = sd_bus_message_read(reply, "(uo)", &id, &job_path);
    const std::string job = result >= 0 && job_path != nullptr ? job_path : "";
    sd_bus_message_unref(reply);
    if (result < 0) return std::nullopt;
    if (id == 0) return std::string();
    return string_property(bus, job, "org.freedesktop.systemd1.Job", "JobType");
}

}  // namespace

std::string unit_of_pid(pid_t pid) {
    char* unit = nullptr;
    if (sd_pid_get_unit(pid, &unit) < 0 || unit == nullptr) return "";
    std::string name = unit;
    std::free(unit);
    return name;
}

UnitIntent unit_intent(const std::string& unit, const std::string& service_result) {
    if (unit.empty()) return UnitIntent::unknown;
    const Bus bus = open_manager_bus();
    if (!bus) return UnitIntent::unknown;
    const std::optional<std::string> job = pending_job_type(bus.get(), unit);
    if (!job) return UnitIntent::unknown;
    log::debug("unit {}: pending job \"{}\", result \"{}\"", unit, *job, service_result);
    if (*job == "stop") return UnitIntent::stop;
    if (job->find("restart") != std::string::npos) return UnitIntent::restart;
    if (job->empty() && !service_result.empty() && service_result != "success") return UnitIntent::restart;
    return job->empty() && service_result.empty() ? UnitIntent::unknown : UnitIntent::stop;
}

}  // namespace mapfs
