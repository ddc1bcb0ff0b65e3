#include "config/mount_options.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "config/config_values.hpp"
#include "config/size.hpp"

namespace mapfs {
namespace {

// Handed to the kernel mount unchanged.
const std::vector<std::string> kernel_flags{"noexec", "exec", "noatime", "sync", "async", "dirsync", "allow_root",
                                            "auto_unmount"};
// Every mapfs mount is nosuid,nodev (session.cpp): a window is data, never a
// program to run with another user's rights or a device. mount(8) passes
// suid and dev for fstab's "defaults"; they are accepted and have no effect.
const std::vector<std::string> always_off_flags{"nosuid", "suid", "nodev", "dev"};
// Passed by mount(8), fstab and systemd; they mean nothing to the daemon.
// The finer atime flags too: libfuse 3.14 refuses them, and 3.17 refuses
// "atime" (the mount failed with "unknown option"); "atime" is the default
// anyway, and a window's times are the mount's, whatever the kernel would
// note of its reads.
const std::vector<std::string> ignored_flags{"defaults", "auto", "noauto", "nofail", "_netdev", "user",
                                             "nouser", "users", "owner", "group", "default_permissions",
                                             "atime", "relatime", "norelatime", "strictatime", "nodiratime",
                                             "diratime"};
const std::vector<std::string> valued_keys{"cache", "uid", "gid", "umask", "fsname", "log_level", "max_read", "transport", "status", "passthrough"};

std::vector<std::string> all_known_words() {
    std::vector<std::string> words{"ro", "rw", "allow_other", "overmount", "detach_stale", "nosupervisor", "x-mount.mkdir"};
    for (const auto* list : {&kernel_flags, &always_off_flags, &ignored_flags, &valued_keys}) words.insert(words.end(), list->begin(), list->end());
    return words;
}

bool contains(const std::vector<std::string>& list, const std::string& word) {
    return std::find(list.begin(), list.end(), word) != list.end();
}

// A byte count the kernel reads as a plain number: "64KiB" is handed to it
// as 65536.
void take_max_read(const std::string& value, const std::string& subject, const std::string& where, MountOptions& options,
                   ConfigErrors& errors) {
    const auto bytes = parse_size(value);
    if (!bytes || *bytes == 0 || *bytes > UINT32_MAX) {
        errors.add(where, subject, "", bytes ? "must be more than 0 and below 4GiB" : bytes.error());
        return;
    }
    options.max_read = static_cast<std::uint32_t>(*bytes);
    options.kernel_options.push_back("max_read=" + std::to_string(*bytes));
}

void apply_value(const std::string& key, const std::string& value, const std::string& where,
                 MountOptions& options, ConfigErrors& errors) {
    const std::string subject = "option \"" + key + "\"";
    auto take = [&](const auto& parsed, auto& target) {
        if (parsed) target = *parsed;
        else errors.add(where, subject, "", parsed.error());
    };
    if (key == "cache") take(parse_cache_mode(value), options.cache);
    else if (key == "uid") take(parse_id(value), options.uid);
    else if (key == "gid") take(parse_id(value), options.gid);
    else if (key == "umask") take(parse_umask(value), options.umask);
    else if (key == "fsname") options.fsname = value;
    else if (key == "log_level") take(parse_log_level(value), options.log_level);
    else if (key == "transport") take(parse_transport(value), options.transport);
    else if (key == "status") take(parse_status_access(value), options.status);
    else if (key == "passthrough") take(parse_passthrough(value), options.passthrough);
    else if (key == "max_read") take_max_read(value, subject, where, options, errors);
}

void apply_one(const std::string& option, const std::string& where, MountOptions& options,
               ConfigErrors& errors) {
    const std::size_t equals = option.find('=');
    const std::string key = option.substr(0, equals);
    if (equals != std::string::npos && contains(valued_keys, key)) {
        apply_value(key, option.substr(equals + 1), where, options, errors);
    } else if (option == "ro" || option == "rw") {
        options.read_only = option == "ro";
    } else if (option == "allow_other") {
        options.allow_other = true;
    } else if (option == "overmount") {
        options.overmount = true;
    } else if (option == "x-mount.mkdir" || option == "X-mount.mkdir") {
        options.make_mountpoint = true;
    } else if (option == "nosupervisor") {
        // Read before the configuration (supervisor.cpp): nothing to keep.
    } else if (option == "detach_stale") {
        // Dead mounts are always detached now; kept for old command lines.
    } else if (contains(kernel_flags, option)) {
        options.kernel_options.push_back(option);
    } else if (contains(always_off_flags, option) || contains(ignored_flags, option) || key.rfind("x-", 0) == 0 ||
               key == "comment") {
        // mount(8) and systemd options; nothing to do.
    } else {
        std::string message = contains(valued_keys, key) ? "needs a value (" + key + "=...)"
                                                         : "unknown mount option \"" + option + "\"";
        const std::string hint = closest_word(key, all_known_words());
        if (!hint.empty() && hint != key) message += " (did you mean \"" + hint + "\"?)";
        errors.add(where, "", "", message);
    }
}

}  // namespace

void apply_mount_options(const std::string& list, const std::string& where, MountOptions& options,
                         ConfigErrors& errors) {
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        const std::string option = list.substr(start, comma - start);
        if (!option.empty()) apply_one(option, where, options, errors);
        start = comma + 1;
    }
}

std::string kernel_mount_options(const MountOptions& options) {
    // default_permissions: the kernel checks mode bits for everyone but
    // root; mapfs itself refuses writes to read windows, root included.
    // nosuid,nodev always, whatever mount(8) passes: a window is data.
    std::string list = "subtype=mapfs,default_permissions,nosuid,nodev";
    // libfuse splits -o at commas; a backslash keeps one inside the name.
    std::string fsname;
    for (const char c : options.fsname.empty() ? std::string("mapfs") : options.fsname) {
        if (c == ',' || c == '\\') fsname += '\\';
        fsname += c;
    }
    list += ",fsname=" + fsname;
    if (options.allow_other) list += ",allow_other";
    if (options.read_only) list += ",ro";
    for (const std::string& option : options.kernel_options) list += "," + option;
    return list;
}

}  // namespace mapfs
