#include "base/mount_table.hpp"

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

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

namespace {

// Every mount in /proc/self/mountinfo, in its order, with where it is.
template <class Visit>
void for_each_mount(Visit&& visit) {
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, where;
        if (!(fields >> id >> parent >> device >> root >> where)) continue;
        // Optional fields end at "-"; then type and source.
        std::string field, type, source;
        while (fields >> field && field != "-") {}
        fields >> type >> source;
        visit(unescape_octal(where), MountEntry{device, type, unescape_octal(source)});
    }
}

}  // namespace

std::vector<MountEntry> mounts_at(const std::string& path) {
    std::vector<MountEntry> found;
    for_each_mount([&](const std::string& where, const MountEntry& entry) {
        if (where == path) found.push_back(entry);
    });
    return found;
}

std::vector<std::string> mount_points_of(const std::string& type, const std::string& source) {
    std::vector<std::string> found;
    for_each_mount([&](const std::string& where, const MountEntry& entry) {
        if (entry.type == type && entry.source == source) found.push_back(where);
    });
    return found;
}

namespace {
std::string canonical_mount_point(const std::string& path);
}  // namespace

// umount -l as root; fusermount3 -uz otherwise (it may detach mounts of our
// own user).
bool detach_mount(const std::string& path) {
    if (::umount2(path.c_str(), MNT_DETACH) == 0) return true;
    // Unmounted already (fusermount3 -u, umount): nothing to detach.
    if (errno == EINVAL && mounts_at(canonical_mount_point(path)).empty()) return true;
    const pid_t child = ::fork();
    if (child == 0) {
        ::execlp("fusermount3", "fusermount3", "-uz", path.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    return child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

namespace {

// The absolute path as mountinfo spells it. realpath(3) of the mount point
// itself would fail on a dead mount, so only its directory is resolved.
std::string canonical_mount_point(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const std::size_t slash = trimmed.rfind('/');
    const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : trimmed.substr(0, slash);
    const std::string leaf = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
    char resolved[PATH_MAX];
    if (::realpath(parent.c_str(), resolved) == nullptr) return path;
    const std::string directory = resolved;
    return directory == "/" ? "/" + leaf : directory + "/" + leaf;
}

bool empty_directory(const std::string& path) {
    DIR* directory = ::opendir(path.c_str());
    if (directory == nullptr) return true;
    bool empty = true;
    while (const dirent* entry = ::readdir(directory)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            empty = false;
            break;
        }
    }
    ::closedir(directory);
    return empty;
}

}  // namespace

FuseMountState probe_fuse_mount(const std::string& path, std::chrono::milliseconds timeout) {
    const pid_t child = ::fork();
    if (child == 0) {
        // ECONNABORTED: the request was read by a server that died, through
        // a descriptor that closed with it (over io_uring the connection
        // ends a moment after the daemon; on a kernel without
        // FUSE_NOTIFY_RESEND a server reads clones). The connection may
        // still live, taken over by a new server: asked again, a live one
        // answers and a dead one says ENOTCONN, or goes on aborting.
        for (int attempt = 0; attempt < 5; ++attempt) {
            struct statx info {};
            if (::statx(AT_FDCWD, path.c_str(), AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &info) == 0) ::_exit(0);
            if (errno == ENOTCONN) ::_exit(1);
            if (errno != ECONNABORTED) ::_exit(2);
            ::usleep(20000);
        }
        ::_exit(1);
    }
    if (child < 0) return FuseMountState::answers;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (::waitpid(child, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            // A FUSE request waits killably: the child goes.
            ::kill(child, SIGKILL);
            ::waitpid(child, &status, 0);
            return FuseMountState::hung;
        }
        ::usleep(2000);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 1 ? FuseMountState::dead : FuseMountState::answers;
}

bool dead_fuse_mount(const std::string& path) {
    return probe_fuse_mount(path, std::chrono::seconds(2)) == FuseMountState::dead;
}

std::string prepare_mount_point(const std::string& given, bool overmount) {
    const std::string path = canonical_mount_point(given);
    std::vector<MountEntry> mounts = mounts_at(path);
    // A FUSE mount whose daemon died answers every call with ENOTCONN: it
    // holds nothing and would hide the new mount under "Transport endpoint
    // is not connected". Only a FUSE mount is asked, so a dead or hung
    // other file system is never touched.
    while (!mounts.empty() && mounts.back().type.rfind("fuse", 0) == 0) {
        const FuseMountState state = probe_fuse_mount(path, std::chrono::seconds(2));
        if (state == FuseMountState::hung && !overmount)
            return "mapfs: mount point \"" + path + "\": the " + mounts.back().type + " mount on it does not answer (its server is stopped, hung or being replaced); unmount it first (fusermount3 -uz " + path + "), or give -o overmount to mount over it\n";
        if (state != FuseMountState::dead) break;
        if (!detach_mount(path)) return "mapfs: mount point \"" + path + "\": a dead FUSE mount is on it and cannot be detached (try fusermount3 -uz " + path + ")\n";
        log::warn("detached the dead {} mount of {} from {}", mounts.back().type, mounts.back().source, path);
        mounts = mounts_at(path);
    }
    if (!mounts.empty() && !overmount) {
        const MountEntry& top = mounts.back();
        return "mapfs: mount point \"" + path + "\" already has a live mount (TARGET " + path + " SOURCE " + top.source +
               " FSTYPE " + top.type + "); unmount it first, or give -o overmount to mount over it\n";
    }
    if (mounts.empty() && !empty_directory(path))
        log::warn("mount point {} is not empty: its files are hidden while mapfs is mounted", path);
    return "";
}

std::string create_mount_point(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) return "";
    std::filesystem::path built;
    for (const std::filesystem::path& part : std::filesystem::path(path)) {
        built /= part;
        if (::mkdir(built.c_str(), 0755) == 0) {
            // As mount(8) makes it, whatever the umask (the unit's is 0077).
            ::chmod(built.c_str(), 0755);
            log::info("created {} (x-mount.mkdir)", built.string());
        } else if (errno != EEXIST) {
            return "mapfs: mount point \"" + path + "\": cannot create " + built.string() + ": " + std::strerror(errno) + "\n";
        }
    }
    return "";
}

std::string device_of_new_mount(const std::string& mountpoint) {
    const std::vector<MountEntry> mounts = mounts_at(mountpoint);
    // Ours is the topmost: it was mounted last, over whatever was there.
    if (mounts.empty() || mounts.back().type != "fuse.mapfs") return "";
    return mounts.back().device;
}

// The kernel gives a FUSE mount 128 KiB of readahead, which caps cached
// sequential reads far below the page cache's speed (measured: 0.05 x direct
// reads; with 1 MiB, 0.3 x).
void raise_readahead(const std::string& device, unsigned kilobytes) {
    if (device.empty()) return;
    std::ofstream setting("/sys/class/bdi/" + device + "/read_ahead_kb");
    setting << kilobytes << "\n";
    setting.flush();
    if (setting) log::debug("readahead of mount {} raised to {} KiB", device, kilobytes);
    else log::debug("cannot raise the readahead of mount {} (not root?)", device);
}

}  // namespace mapfs
