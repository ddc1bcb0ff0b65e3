// The report a running mapfs serves in MOUNTPOINT/.mapfs/status, as another
// program reads it: `mapfs status` and `mapfs reload` use this, and so may a
// monitoring agent. The JSON itself is the stable interface; this is its
// C++ shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mapfs {

struct RegionStatus {
    std::string name;
    std::optional<std::string> path;  // none for anonymous memory
    bool anonymous = false;
    std::uint64_t size_bytes = 0;
    std::uint64_t mapped_bytes = 0;
    std::optional<std::uint64_t> resident_bytes;  // none when it could not be told
    std::string resident_unknown_because;
};

struct WindowStatus {
    std::string name;
    std::string region;
    std::uint64_t offset_bytes = 0;
    std::uint64_t length_bytes = 0;
    std::string access;  // read | write | copy
    std::string cache;   // auto | none | keep
    std::string pages;   // lazy | populate | lock
    std::uint64_t open_handles = 0;
    std::uint64_t reads = 0;
    std::uint64_t writes = 0;
    std::uint64_t bytes_read = 0;
    std::uint64_t bytes_written = 0;
    std::uint64_t errors = 0;
    // False once an open of the window was passed through: the kernel
    // served its reads and writes, which the counters above miss.
    bool counters_kept = true;
    // FUSE passthrough: whether new opens are served by the kernel itself,
    // why not, and how many open files are.
    bool passthrough = false;
    std::string passthrough_why_not;
    std::uint64_t passthrough_open_files = 0;
    // Set for a window made from a partition table.
    struct Partition {
        unsigned number = 0;
        std::string scheme;  // mbr | gpt
        std::string name;    // GPT name
        std::string type;    // GPT type GUID or MBR type (0x83)
    };
    std::optional<Partition> partition;
};

struct ReloadStatus {
    std::uint64_t count = 0;     // reloads tried since start-up
    bool last_accepted = true;   // whether the last one took effect
    std::string last_message;    // why it was rejected
};

struct StatusReport {
    std::string version;
    std::string mountpoint;
    std::int64_t pid = 0;  // the process serving the mount
    // mapfs's supervisor, which starts a new server when this one dies
    // (none under systemd, which keeps the mount itself, or -o nosupervisor).
    std::optional<std::int64_t> supervisor_pid;
    std::string failover = "none";  // who keeps the mount: supervisor | systemd | none
    std::uint64_t takeovers = 0;    // servers that took the mount over so far
    bool resend = false;            // the kernel resends what a dead server had not answered
    std::string transport = "/dev/fuse";
    // The server's command line and the directory it was started in.
    std::vector<std::string> arguments;
    std::string directory;
    double uptime_seconds = 0;
    std::uint64_t open_handles = 0;
    std::uint64_t late_invalidations = 0;
    // Whether the connection can pass files through, and why not.
    bool passthrough_available = false;
    std::string passthrough_unavailable_because;
    ReloadStatus reloads;
    std::vector<RegionStatus> regions;
    std::vector<WindowStatus> windows;
};

// Parses the report; on failure returns nothing and sets `error`.
std::optional<StatusReport> parse_status_report(std::string_view json, std::string& error);

// Reads MOUNTPOINT/.mapfs/status; on failure returns nothing and sets `error`.
std::optional<StatusReport> read_status_report(const std::string& mountpoint, std::string& error);

// Why MOUNTPOINT/.mapfs/status could not be opened (errno `error`), and
// what to do: permission denied, a dead mount, or no mapfs mount there.
std::string status_unreadable_because(const std::string& mountpoint, int error);

}  // namespace mapfs
