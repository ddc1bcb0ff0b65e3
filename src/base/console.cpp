#include "base/console.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace mapfs::console {
namespace {

// One write per message, so that lines of two processes sharing a stream
// do not mix.
void write_lines(char priority, std::string_view text) {
    const bool prefixed = stderr_is_journal();
    std::string out;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        if (prefixed) out += {'<', priority, '>'};
        out += line;
        out += '\n';
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    for (std::size_t written = 0; written < out.size();) {
        const ssize_t count = ::write(STDERR_FILENO, out.data() + written, out.size() - written);
        if (count <= 0) return;
        written += static_cast<std::size_t>(count);
    }
}

}  // namespace

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat info {};
    if (stream == nullptr || ::fstat(STDERR_FILENO, &info) != 0) return false;
    return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) == stream;
}

void error(std::string_view text) { write_lines('3', text); }
void warning(std::string_view text) { write_lines('4', text); }
void info(std::string_view text) { write_lines('6', text); }

}  // namespace mapfs::console
