#include "base/log.hpp"

#include "base/console.hpp"

#include <fuse_log.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/sinks/systemd_sink.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdlib>
#include <cstdio>

namespace mapfs::log {
namespace {

void fuse_message(enum fuse_log_level level, const char* format, va_list arguments) {
    char text[1024];
    std::vsnprintf(text, sizeof text, format, arguments);
    std::string message(text);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    switch (level) {
        case FUSE_LOG_EMERG:
        case FUSE_LOG_ALERT:
        case FUSE_LOG_CRIT: spdlog::critical("fuse: {}", message); break;
        case FUSE_LOG_ERR: spdlog::error("fuse: {}", message); break;
        case FUSE_LOG_WARNING: spdlog::warn("fuse: {}", message); break;
        case FUSE_LOG_NOTICE:
        case FUSE_LOG_INFO: spdlog::info("fuse: {}", message); break;
        case FUSE_LOG_DEBUG: spdlog::debug("fuse: {}", message); break;
    }
}

std::shared_ptr<spdlog::sinks::sink> syslog_sink() {
    // syslog's own header carries time, name and pid.
    auto sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("mapfs", LOG_PID, LOG_DAEMON, true);
    sink->set_pattern("%v");
    return sink;
}

std::shared_ptr<spdlog::logger> make_logger(bool quiet) {
    if (console::stderr_is_journal()) {
        // The journal keeps time, pid and priority itself.
        auto logger = std::make_shared<spdlog::logger>("mapfs", std::make_shared<spdlog::sinks::systemd_sink_mt>("mapfs"));
        logger->set_pattern("%v");
        return logger;
    }
    auto terminal = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    terminal->set_pattern("%Y-%m-%d %H:%M:%S.%e mapfs[%P] %l: %v");
    if (!quiet) return std::make_shared<spdlog::logger>("mapfs", terminal);
    // Started to go to the background (by hand, by mount(8), from fstab):
    // like sshfs, print nothing on success and only errors on failure; the
    // rest goes to syslog from the start.
    terminal->set_level(spdlog::level::err);
    return std::make_shared<spdlog::logger>("mapfs", spdlog::sinks_init_list{terminal, syslog_sink()});
}

}  // namespace

void setup(const std::string& level, bool debug, bool foreground) {
    auto logger = make_logger(!foreground && !debug);
    spdlog::set_default_logger(logger);
    const std::string name = level == "warning" ? "warn" : level;
    spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::from_str(name));
    fuse_set_log_func(fuse_message);
}

void to_syslog_in_background() {
    if (console::stderr_is_journal()) return;  // the journal has it already
    auto logger = std::make_shared<spdlog::logger>("mapfs", syslog_sink());
    logger->set_level(spdlog::default_logger()->level());
    spdlog::set_default_logger(logger);
}

}  // namespace mapfs::log
