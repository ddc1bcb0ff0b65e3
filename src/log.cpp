#include "mapfs/log.hpp"

#include <fuse_log.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdarg>
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

}  // namespace

void setup(const std::string& level, bool debug) {
    auto logger = spdlog::stderr_logger_mt("mapfs");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e mapfs[%P] %l: %v");
    spdlog::set_default_logger(logger);
    const std::string name = level == "warning" ? "warn" : level;
    spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::from_str(name));
    fuse_set_log_func(fuse_message);
}

}  // namespace mapfs::log
