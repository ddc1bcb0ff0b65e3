#include "config/command_line.hpp"

#include <string_view>

namespace mapfs {
namespace {

class ArgumentReader {
public:
    ArgumentReader(int argc, const char* const* argv, ConfigErrors& errors)
        : argc_(argc), argv_(argv), errors_(errors) {}

    CommandLine read() {
        bool options_ended = false;
        for (index_ = 1; index_ < argc_; ++index_) {
            const std::string_view argument = argv_[index_];
            if (options_ended || argument.size() < 2 || argument[0] != '-') positional(argument);
            else if (argument == "--") options_ended = true;
            else if (argument.substr(0, 2) == "--") long_option(argument.substr(2));
            else short_options(argument.substr(1));
        }
        return result_;
    }

private:
    void positional(std::string_view argument) {
        if (!result_.source) result_.source = std::string(argument);
        else if (!result_.mountpoint) result_.mountpoint = std::string(argument);
        else errors_.add("argument '" + std::string(argument) + "'", "", "",
                         "too many arguments (expected SOURCE MOUNTPOINT)");
    }

    // The value of an option: the rest of this argument, or the next one.
    std::optional<std::string> value_for(std::string_view option, std::string_view rest) {
        if (!rest.empty()) return std::string(rest);
        if (index_ + 1 < argc_) return std::string(argv_[++index_]);
        errors_.add("argument '" + std::string(option) + "'", "", "", "needs a value");
        return std::nullopt;
    }

    void long_option(std::string_view text) {
        const std::size_t equals = text.find('=');
        const std::string_view name = text.substr(0, equals);
        const std::string_view inline_value = equals == std::string_view::npos ? "" : text.substr(equals + 1);
        if (name == "help") result_.help = true;
        else if (name == "version") result_.version = true;
        else if (name == "foreground") result_.foreground = true;
        else if (name == "debug") result_.debug = result_.foreground = true;
        else if (name == "single-thread") result_.single_thread = true;
        else if (name == "window") add(result_.window_specs, value_for("--window", inline_value));
        else if (name == "log-level") result_.log_level = value_for("--log-level", inline_value);
        else if (name == "options") add(result_.option_lists, value_for("--options", inline_value));
        else errors_.add("argument '--" + std::string(text) + "'", "", "", "unknown option (see mapfs --help)");
    }

    void short_options(std::string_view letters) {
        for (std::size_t i = 0; i < letters.size(); ++i) {
            const char letter = letters[i];
            const std::string_view rest = letters.substr(i + 1);
            switch (letter) {
                case 'h': result_.help = true; break;
                case 'V': result_.version = true; break;
                case 'f': result_.foreground = true; break;
                case 'd': result_.debug = result_.foreground = true; break;
                case 's': result_.single_thread = true; break;
                case 'w': add(result_.window_specs, value_for("-w", rest)); return;
                case 'o': add(result_.option_lists, value_for("-o", rest)); return;
                default:
                    errors_.add("argument '-" + std::string(1, letter) + "'", "", "",
                                "unknown option (see mapfs --help)");
            }
        }
    }

    static void add(std::vector<std::string>& list, std::optional<std::string> value) {
        if (value) list.push_back(std::move(*value));
    }

    int argc_;
    const char* const* argv_;
    ConfigErrors& errors_;
    CommandLine result_;
    int index_ = 1;
};

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv, ConfigErrors& errors) {
    return ArgumentReader(argc, argv, errors).read();
}

std::string usage_text(const std::string& program) {
    return "usage: " + program + R"( [OPTIONS] SOURCE MOUNTPOINT
       )" + program + R"( [OPTIONS] CONFIG.toml            (mount point from the file)
       )" + program + R"( [OPTIONS] -w SPEC... MOUNTPOINT
       )" + program + R"( status MOUNTPOINT [--json]   (report of a running mount)
       )" + program + R"( reload CONFIG.toml|MOUNTPOINT [--pid PID]
                                        (reload, wait, report the outcome)
       )" + program + R"( cleanup CONFIG.toml|MOUNTPOINT [--unit UNIT]
                                        (detach a dead mount left there)
       )" + program + R"( upgrade CONFIG.toml|MOUNTPOINT  (a new server, from the installed
                                        binary, takes the mount over)

Maps backing files or anonymous memory with mmap(2) and shows windows of the
mappings as files. SOURCE is a TOML configuration (name ending in .toml) or a
backing file, shown whole as one window named after it.

options:
  -w, --window SPEC     add a window: 'NAME:key=value,...' with keys
                          file=PATH | anon,size=SIZE | region=NAME  what it views
                          offset=SIZE, length=SIZE                  which bytes
                          access=read|write|copy                    (default: write
                                                                    if the file allows)
                          mode=OCTAL, uid=N, gid=N                  owner and mode
                          cache=auto|cto|none|keep                  page cache use
                          pages=lazy|populate|lock                  how pages come in
                          passthrough=auto|off                      the kernel serves a
                                                                    whole file or region
                          partitions                                a directory NAME/ of
                                                                    p1, p2, ...: one window
                                                                    per MBR/GPT partition
                        a backslash escapes ',' ':' or '=' in a value
  -o OPT[,OPT...]       mount options:
                          cache=auto|cto|none|keep default cache mode
                          allow_other            let other users in
                          ro | rw                read-only mount | read-write
                          uid=N, gid=N, umask=OCTAL  owner and mode of files
                          fsname=NAME            name shown in /proc/mounts
                          overmount              mount over a live mount already
                                                 on MOUNTPOINT (refused otherwise)
                          nosupervisor           no supervising process: a crash
                                                 of the server loses the mount
                          transport=auto|uring|dev  FUSE over io_uring when the
                                                 kernel offers it (auto: unless a
                                                 takeover needs /dev/fuse)
                          passthrough=auto|off   the kernel serves windows that
                                                 are a whole file or region itself
                                                 (as root, Linux 6.9+; auto)
                          log_level=LEVEL        as --log-level
                          noexec, noatime, ...   kernel flags (always nosuid,nodev)
                          defaults, nofail, _netdev, x-*, ...  accepted, ignored
  --log-level LEVEL     trace|debug|info|warn|error|critical|off
                        (overrides the config's log_level)
  -f, --foreground      stay in the foreground
  -d, --debug           log every request (implies -f)
  -s, --single-thread   serve requests on one thread
  -h, --help            show this help
  -V, --version         show the version

Sizes: 4096, 64KiB, 1MiB, 2GiB, 1TiB (K/M/G/T mean the same), 0x1000.
Exit status: 0 after a clean unmount, 1 when the system fails (mount, mmap),
2 for bad arguments or configuration (nothing is mounted or written).
)";
}

}  // namespace mapfs
