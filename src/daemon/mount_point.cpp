#include "daemon/mount_point.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "base/log.hpp"

namespace mapfs {

namespace {

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string unescape_octal(const std::string& text) {
    std::string plain;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size()) {
            const std::string digits = text.substr(i + 1, 3);
            if (digits.find_first_not_of("01234567") == std::string::npos) {
                plain += static_cast<char>(std::stoi(digits, nullptr, 8));
                i += 3;
                continue;
            }
        }
        plain += text[i];
    }
    return plain;
}

}  // namespace

std::vector<MountEntry> mounts_at(const std::string& path) {
    std::vector<MountEntry> found;
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, where;
        if (!(fields >> id >> parent >> device >> root >> where) || unescape_octal(where) != path) continue;
        // Optional fields end at "-"; then type and source.
        std::string field, type, source;
        while (fields >> field && field != "-") {}
        fields >> type >> source;
        found.push_back({device, type, unescape_octal(source)});
    }
    return found;
}

bool detach_stale_mount(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 || errno != ENOTCONN) return false;
    if (::umount2(path.c_str(), MNT_DETACH) == 0) {
        log::warn("detached the stale mount on {}", path);
        return true;
    }
    // Not root: fusermount3 may detach mounts of our own user.
    const pid_t child = ::fork();
    if (child == 0) {
        ::execlp("fusermount3", "fusermount3", "-uz", path.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    const bool detached = child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (detached) log::warn("detached the stale mount on {}", path);
    else log::error("cannot detach the stale mount on {}", path);
    return detached;
}

// The kernel gives a FUSE mount 128 KiB of readahead, which caps cached
// sequential reads far below the page cache's speed (measured: 0.05 x direct
// reads; with 1 MiB, 0.3 x).
void raise_readahead(const std::string& mountpoint, unsigned kilobytes) {
    const std::vector<MountEntry> mounts = mounts_at(mountpoint);
    // Ours is the topmost: it was mounted last, over whatever was there.
    if (mounts.empty() || mounts.back().type != "fuse.mapfs") {
        log::debug("no mapfs mount on top of {}; readahead left alone", mountpoint);
        return;
    }
    std::ofstream setting("/sys/class/bdi/" + mounts.back().device + "/read_ahead_kb");
    setting << kilobytes << "\n";
    setting.flush();
    if (setting) log::debug("readahead of {} raised to {} KiB", mountpoint, kilobytes);
    else log::debug("cannot raise the readahead of {} (not root?)", mountpoint);
}

}  // namespace mapfs
